/**
 * The last step of a pod's end on this node: deleting its object with grace 0
 * once nothing of it runs any more, retried until the API server has it.
 *
 * A kubelet keeps asking to delete a terminated pod on every sync until the
 * object is gone; the agent used to ask once, so a delete that timed out (the
 * API server or etcd frozen for a moment, as the control-plane chaos tests do)
 * left the pod Terminating forever, and a later `kubectl drain` of the node
 * waited on it (CI: 180 s, then failed).
 *
 * @module
 */
import { delay } from "../../src/async/delay.ts";
import { isConflict, isNotFound, type KubeClient } from "../../src/kube/client.ts";

/** The pod object to remove: the uid guards against a new pod of the same name. */
export interface PodObjectRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** The first wait after a failed delete; it doubles up to {@linkcode longestRetryMs}. */
const firstRetryMs = 500;
/** The longest wait between two attempts. */
const longestRetryMs = 10_000;

/**
 * How long to wait before attempt `attempt` (1 for the first retry): doubling
 * from {@linkcode firstRetryMs}, never more than {@linkcode longestRetryMs}.
 */
export function removalRetryDelayMs(attempt: number): number {
  return Math.min(firstRetryMs * 2 ** Math.max(attempt - 1, 0), longestRetryMs);
}

/**
 * Whether a failed delete is settled: the object is gone (404), or the name now
 * belongs to another pod (409, the uid precondition failed). Anything else (a
 * timeout, a 5xx, a refused connection) is worth another attempt.
 */
export function removalSettled(error: unknown): boolean {
  return isNotFound(error) || isConflict(error);
}

/**
 * Deletes `pod` with grace 0, retrying until the object is gone or belongs to
 * someone else, or `signal` aborts (the agent stops). Failures are logged, the
 * first and then every tenth, so a long outage is visible without flooding.
 */
export async function removePodObject(
  client: KubeClient,
  pod: PodObjectRef,
  log: (message: string, fields: Record<string, unknown>) => void,
  signal?: AbortSignal,
): Promise<void> {
  for (let attempt = 0; !signal?.aborted; attempt++) {
    try {
      await client.request({
        method: "DELETE",
        path: `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`,
        body: {
          apiVersion: "v1",
          kind: "DeleteOptions",
          gracePeriodSeconds: 0,
          preconditions: { uid: pod.uid },
        },
      });
      if (attempt > 0) {
        log("pod deleted after retries", { ...podFields(pod), attempts: attempt + 1 });
      }
      return;
    } catch (error) {
      if (removalSettled(error)) return;
      if (attempt % 10 === 0) {
        log("pod delete failed, retrying", {
          ...podFields(pod),
          attempt: attempt + 1,
          error: String(error),
        });
      }
    }
    await delay(removalRetryDelayMs(attempt + 1), signal).catch(() => {});
  }
}

function podFields(pod: PodObjectRef): Record<string, unknown> {
  return { namespace: pod.namespace, pod: pod.name };
}
