/**
 * The pods the operator deletes itself, so the OnDelete StatefulSet recreates
 * them from the current template: outdated replicas one at a time while the
 * replication is healthy (a rolling update), and a pod that runs no Redis on
 * an older template (decide/pod_trouble.ts).
 *
 * @module
 */
import { Reason } from "../api/conditions.ts";
import { objectNames, type Redis } from "../api/redis.ts";
import { idleOutdatedPod, podTrouble, podTroubleProblem } from "../decide/pod_trouble.ts";
import type { Problem } from "../decide/status.ts";
import { unlessNotFound } from "../kube/client.ts";
import type { ReconcileDeps } from "./deps.ts";
import { type ObservedInstance, redisPods } from "./observe.ts";
import { event } from "./record.ts";
import { tryApply } from "./try_apply.ts";

/** The StatefulSet's current template revision, once the controller has seen the latest spec. */
export function updateRevision(deps: ReconcileDeps, redis: Redis): string | undefined {
  const set = deps.caches.statefulSets.get(
    redis.metadata!.namespace!,
    objectNames(redis.metadata!.name!).base,
  );
  if (!set?.status?.updateRevision || set.status.observedGeneration !== set.metadata?.generation) {
    return undefined;
  }
  return set.status.updateRevision;
}

/**
 * Operator-driven rolling update (the StatefulSet is OnDelete): while the
 * replication is healthy, replace one outdated replica, highest ordinal
 * first; the next one only once everything is back in sync. The master goes
 * last, after a handover (decided in decideReplication). True when a pod was deleted.
 */
export async function rollOneReplica(
  deps: ReconcileDeps,
  redis: Redis,
  observed: readonly ObservedInstance[],
): Promise<boolean> {
  if (observed.some((o) => o.observation.terminating)) return false;
  const outdated =
    observed.filter((o) => o.observation.outdated && o.observation.pod !== redis.status?.master)
      .sort((a, b) => b.observation.ordinal - a.observation.ordinal)[0];
  if (!outdated) return false;
  await deps.apis.pods.delete(redis.metadata!.namespace!, outdated.observation.pod);
  await event(
    deps,
    redis,
    "Normal",
    Reason.RollingUpdate,
    `Replacing replica ${outdated.observation.pod} with the new pod template`,
  );
  return true;
}

/**
 * Reports the pods in trouble (decide/pod_trouble.ts) and deletes one that
 * runs no Redis on an older template, so the StatefulSet recreates it from
 * the current spec: after a user fixes a config that crash-looped or an image
 * that could not be pulled, the pod that had it gets the fix. Only while the
 * replication is healthy, or while no instance answers at all (a new Redis
 * whose every pod crash-loops): never in the middle of a failover.
 */
export async function replaceIdleOutdatedPod(
  deps: ReconcileDeps,
  redis: Redis,
  masterPod: string | undefined,
  plan: { readonly kind: string },
  observed: readonly ObservedInstance[],
): Promise<{ advisory: Problem[]; problems: Problem[]; replaced: boolean }> {
  const pods = redisPods(deps, redis);
  const now = deps.now();
  const troubles = pods.flatMap((pod) => podTrouble(pod, now) ?? []);
  const trouble = podTroubleProblem(troubles);
  const advisory = trouble ? [trouble] : [];
  const answered = new Set(
    observed.filter((o) => o.observation.info).map((o) => o.observation.pod),
  );
  const settled = plan.kind === "Healthy" || answered.size === 0;
  if (deps.signal?.aborted || !settled) return { advisory, problems: [], replaced: false };
  const stale = idleOutdatedPod(
    pods,
    troubles,
    updateRevision(deps, redis),
    masterPod ?? redis.status?.master,
    answered,
  );
  if (!stale) return { advisory, problems: [], replaced: false };
  const name = stale.metadata!.name!;
  // Only the pod that was seen: one the StatefulSet recreated meanwhile has another uid.
  const uid = stale.metadata?.uid;
  const problems = await tryApply(() =>
    unlessNotFound(
      deps.apis.pods.delete(
        redis.metadata!.namespace!,
        name,
        uid ? { preconditions: { uid } } : {},
      ),
    )
  );
  if (problems.length) return { advisory, problems, replaced: false };
  const why = troubles.find((t) => t.pod === name)?.reason;
  await event(
    deps,
    redis,
    "Normal",
    Reason.PodReplaced,
    `Deleted pod ${name} (${why}), which ran no Redis and had an older pod template: it is recreated from the current spec`,
  );
  return { advisory, problems: [], replaced: true };
}
