/**
 * The pod status the node agent reports, built from what it knows about the
 * pod's containers. Pure: the clock comes in as `now`.
 *
 * @module
 */
import type {
  ContainerState,
  ContainerStatus,
  PodCondition,
  PodStatus,
} from "kubernetes-types/core/v1.d.ts";
import { isConflict, isNotFound, KubeApiError } from "../../src/kube/client.ts";

/** What the agent knows about one container. */
export interface ContainerSnapshot {
  readonly name: string;
  readonly image: string;
  readonly restartCount: number;
  readonly state: ContainerState;
  readonly lastState?: ContainerState;
  readonly ready: boolean;
  readonly started: boolean;
  readonly containerID?: string;
}

/** What the agent knows about one pod. */
export interface PodSnapshot {
  readonly sandboxReady: boolean;
  readonly podIP?: string;
  readonly hostIP: string;
  readonly startTime: string;
  readonly initialized: boolean;
  readonly initContainers: readonly ContainerSnapshot[];
  readonly containers: readonly ContainerSnapshot[];
  readonly restartPolicy: string;
}

/**
 * Builds `status` for a strategic merge patch of `pods/status`. Conditions keep
 * their `lastTransitionTime` from `previous` unless their status changed.
 */
export function buildPodStatus(
  snapshot: PodSnapshot,
  previous: readonly PodCondition[] | undefined,
  now: string,
): PodStatus {
  const containersReady = snapshot.containers.length > 0 &&
    snapshot.containers.every((c) => c.ready);
  const wanted: Array<[string, boolean]> = [
    ["PodReadyToStartContainers", snapshot.sandboxReady],
    ["Initialized", snapshot.initialized],
    ["ContainersReady", containersReady],
    ["Ready", containersReady],
  ];
  const conditions: PodCondition[] = wanted.map(([type, ok]) => {
    const status = ok ? "True" : "False";
    const before = previous?.find((c) => c.type === type);
    const condition: PodCondition = {
      type,
      status,
      lastProbeTime: null as unknown as string,
      lastTransitionTime: before?.status === status && before.lastTransitionTime
        ? before.lastTransitionTime
        : now,
    };
    // A true condition has no reason: null removes one a false one left (the patch merges).
    if (ok) Object.assign(condition, { reason: null, message: null });
    if (!ok && (type === "ContainersReady" || type === "Ready")) {
      const notReady = snapshot.containers.filter((c) => !c.ready).map((c) => c.name);
      condition.reason = "ContainersNotReady";
      condition.message = `containers with unready status: [${notReady.join(" ")}]`;
    }
    if (!ok && type === "Initialized") {
      condition.reason = "ContainersNotInitialized";
      const pending = snapshot.initContainers.filter((c) =>
        !c.state.terminated || c.state.terminated.exitCode !== 0
      );
      condition.message = `containers with incomplete status: [${
        pending.map((c) => c.name).join(" ")
      }]`;
    }
    return condition;
  });
  const status: PodStatus = {
    phase: podPhase(snapshot),
    conditions,
    hostIP: snapshot.hostIP,
    hostIPs: [{ ip: snapshot.hostIP }],
    startTime: snapshot.startTime,
    containerStatuses: snapshot.containers.map(toContainerStatus),
  };
  if (snapshot.initContainers.length) {
    status.initContainerStatuses = snapshot.initContainers.map(toContainerStatus);
  }
  if (snapshot.podIP) {
    status.podIP = snapshot.podIP;
    status.podIPs = [{ ip: snapshot.podIP }];
  }
  return status;
}

/**
 * Does the API server hold conditions other than those the agent wrote last?
 * Another writer changed them: the node lifecycle controller marks a NotReady
 * node's pods not Ready, and a kubelet's status manager writes its own status
 * back once it reaches the API server again. Only types and statuses count.
 */
export function conditionsDrifted(
  held: readonly PodCondition[] | undefined,
  written: readonly PodCondition[] | undefined,
): boolean {
  if (!written) return false;
  return written.some((w) => held?.find((h) => h.type === w.type)?.status !== w.status);
}

/** The pod phase, with the kubelet's rules for restart policies. */
export function podPhase(snapshot: PodSnapshot): string {
  const failedInit = snapshot.initContainers.some((c) =>
    c.state.terminated && c.state.terminated.exitCode !== 0
  );
  if (!snapshot.initialized) {
    return failedInit && snapshot.restartPolicy === "Never" ? "Failed" : "Pending";
  }
  const containers = snapshot.containers;
  const everStarted = containers.some((c) =>
    c.state.running || c.state.terminated || c.lastState?.terminated
  );
  if (!everStarted) return "Pending";
  if (snapshot.restartPolicy !== "Always" && containers.every((c) => c.state.terminated)) {
    return containers.every((c) => c.state.terminated?.exitCode === 0) ? "Succeeded" : "Failed";
  }
  return "Running";
}

function toContainerStatus(container: ContainerSnapshot): ContainerStatus {
  return {
    name: container.name,
    image: container.image,
    imageID: "",
    ...(container.containerID ? { containerID: container.containerID } : {}),
    ready: container.ready,
    started: container.started,
    restartCount: container.restartCount,
    state: container.state,
    lastState: container.lastState ?? {},
  };
}

/**
 * The body of a strategic merge patch that sets `status`: the address lists
 * replace what the API server holds (merged by `ip`, a new sandbox's address
 * would be added beside the old one, and the API server refuses two of one
 * family).
 */
export function statusPatch(uid: string, status: PodStatus): Record<string, unknown> {
  const replace = (list: PodStatus["podIPs"]) => list ? [{ $patch: "replace" }, ...list] : list;
  return {
    metadata: { uid },
    status: {
      ...status,
      ...(status.podIPs ? { podIPs: replace(status.podIPs) } : {}),
      ...(status.hostIPs ? { hostIPs: replace(status.hostIPs) } : {}),
    },
  };
}

/**
 * Whether a failed status patch is final: the pod is gone (404), or the API
 * server will never take it (422: a status it refuses, or the name now
 * belongs to a new pod, whose uid the patch's does not match; 409 for a uid
 * precondition). A timeout or a 5xx is worth another try.
 */
export function statusPatchSettled(error: unknown): boolean {
  return isNotFound(error) || isConflict(error) ||
    (error instanceof KubeApiError && error.status === 422);
}
