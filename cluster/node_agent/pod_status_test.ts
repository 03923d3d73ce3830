import assert from "node:assert/strict";
import {
  buildPodStatus,
  conditionsDrifted,
  type ContainerSnapshot,
  podPhase,
  type PodSnapshot,
  statusPatch,
  statusPatchSettled,
} from "./pod_status.ts";
import { KubeApiError } from "../../src/kube/client.ts";

const running: ContainerSnapshot = {
  name: "redis",
  image: "redis:7.0",
  restartCount: 0,
  state: { running: { startedAt: "2026-01-01T00:00:01Z" } },
  ready: true,
  started: true,
};
const base: PodSnapshot = {
  sandboxReady: true,
  podIP: "198.18.1.7",
  hostIP: "198.18.0.1",
  startTime: "2026-01-01T00:00:00Z",
  initialized: true,
  initContainers: [],
  containers: [running],
  restartPolicy: "Always",
};

Deno.test("buildPodStatus() reports a running, ready pod as a kubelet would", () => {
  const status = buildPodStatus(base, undefined, "2026-01-01T00:00:05Z");
  assert.equal(status.phase, "Running");
  assert.equal(status.podIP, "198.18.1.7");
  assert.deepEqual(status.podIPs, [{ ip: "198.18.1.7" }]);
  assert.deepEqual(status.hostIPs, [{ ip: "198.18.0.1" }]);
  const conditions = Object.fromEntries(status.conditions!.map((c) => [c.type, c.status]));
  assert.deepEqual(conditions, {
    PodReadyToStartContainers: "True",
    Initialized: "True",
    ContainersReady: "True",
    Ready: "True",
  });
  assert.equal(status.containerStatuses?.[0]?.ready, true);
});

Deno.test("buildPodStatus() keeps a condition's transition time until its status changes", () => {
  const first = buildPodStatus(base, undefined, "2026-01-01T00:00:05Z");
  const same = buildPodStatus(base, first.conditions, "2026-01-01T00:01:00Z");
  assert.equal(
    same.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime,
    "2026-01-01T00:00:05Z",
  );
  const unready = buildPodStatus(
    { ...base, containers: [{ ...running, ready: false }] },
    first.conditions,
    "2026-01-01T00:02:00Z",
  );
  const ready = unready.conditions?.find((c) => c.type === "Ready");
  assert.equal(ready?.status, "False");
  assert.equal(ready?.lastTransitionTime, "2026-01-01T00:02:00Z");
  assert.equal(ready?.reason, "ContainersNotReady");
  assert.match(ready?.message ?? "", /\[redis\]/);
  assert.equal(
    unready.conditions?.find((c) => c.type === "Initialized")?.lastTransitionTime,
    "2026-01-01T00:00:05Z",
  );
});

Deno.test("podPhase() is Pending before init, then follows the restart policy", () => {
  const waiting: ContainerSnapshot = {
    ...running,
    ready: false,
    state: { waiting: { reason: "ErrImagePull" } },
  };
  assert.equal(podPhase({ ...base, initialized: false }), "Pending");
  assert.equal(podPhase({ ...base, containers: [waiting] }), "Pending");
  const exited = (exitCode: number): ContainerSnapshot => ({
    ...running,
    ready: false,
    state: { terminated: { exitCode, startedAt: "x", finishedAt: "y" } },
  });
  assert.equal(podPhase({ ...base, containers: [exited(1)] }), "Running", "Always restarts it");
  assert.equal(podPhase({ ...base, restartPolicy: "Never", containers: [exited(0)] }), "Succeeded");
  assert.equal(podPhase({ ...base, restartPolicy: "Never", containers: [exited(2)] }), "Failed");
  const failedInit = { ...exited(1), name: "init" };
  assert.equal(
    podPhase({ ...base, initialized: false, restartPolicy: "Never", initContainers: [failedInit] }),
    "Failed",
  );
});

Deno.test("statusPatch() replaces the address lists, so a new sandbox's address is not merged in beside the old", () => {
  const patch = statusPatch("uid-1", {
    podIP: "198.18.32.4",
    podIPs: [{ ip: "198.18.32.4" }],
    hostIPs: [{ ip: "198.18.0.12" }],
    phase: "Running",
  }) as { metadata: { uid: string }; status: Record<string, unknown> };
  assert.equal(patch.metadata.uid, "uid-1");
  assert.deepEqual(patch.status.podIPs, [{ $patch: "replace" }, { ip: "198.18.32.4" }]);
  assert.deepEqual(patch.status.hostIPs, [{ $patch: "replace" }, { ip: "198.18.0.12" }]);
  assert.equal(patch.status.phase, "Running");
});

Deno.test("buildPodStatus() clears the reason a false condition left once it is true again (the patch merges)", () => {
  const ready = buildPodStatus(base, undefined, "2026-01-01T00:00:05Z").conditions!
    .find((c) => c.type === "Ready")!;
  assert.equal(ready.reason, null);
  assert.equal(ready.message, null);
});

Deno.test("conditionsDrifted() sees a condition another writer changed, not a changed time", () => {
  const written = buildPodStatus(base, undefined, "2026-01-01T00:00:05Z").conditions!;
  assert.equal(conditionsDrifted(written, written), false);
  const retimed = written.map((c) => ({ ...c, lastTransitionTime: "2026-01-01T00:09:00Z" }));
  assert.equal(conditionsDrifted(retimed, written), false);
  // What the node lifecycle controller does to the pods of a node it thinks is down.
  const markedNotReady = written.map((c) => c.type === "Ready" ? { ...c, status: "False" } : c);
  assert.equal(conditionsDrifted(markedNotReady, written), true);
  assert.equal(conditionsDrifted(undefined, written), true);
  assert.equal(conditionsDrifted(markedNotReady, undefined), false);
});

Deno.test("a status patch refused for good is not sent again; a timeout or 5xx is", () => {
  const refused = (status: number) => new KubeApiError("PATCH", "/status", status, {});
  assert.equal(statusPatchSettled(refused(404)), true, "the pod is gone");
  assert.equal(statusPatchSettled(refused(409)), true, "its name is a new pod's");
  assert.equal(statusPatchSettled(refused(422)), true, "a status the API server refuses");
  assert.equal(statusPatchSettled(refused(500)), false);
  assert.equal(statusPatchSettled(refused(503)), false);
  assert.equal(statusPatchSettled(new DOMException("timed out", "TimeoutError")), false);
});
