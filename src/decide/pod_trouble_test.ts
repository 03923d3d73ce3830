import assert from "node:assert/strict";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1.d.ts";
import { idleOutdatedPod, notReadyGraceMs, podTrouble, podTroubleProblem } from "./pod_trouble.ts";

const now = new Date("2026-11-27T12:00:00Z");
const configError = [
  "",
  "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***",
  "Reading the configuration file, at line 14",
  ">>> 'maxmemory \"lots\"'",
  "argument must be a memory value",
  "",
].join("\n");

function pod(
  name: string,
  container: Partial<ContainerStatus>,
  extra: { phase?: string; ready?: string; since?: string; revision?: string } = {},
): Pod {
  return {
    metadata: { name, labels: { "controller-revision-hash": extra.revision ?? "old" } },
    status: {
      phase: extra.phase ?? "Running",
      conditions: [{
        type: "Ready",
        status: extra.ready ?? "False",
        lastTransitionTime: extra.since ?? "2026-11-27T11:00:00Z",
      }],
      containerStatuses: [{
        name: "redis",
        image: "redis:7",
        imageID: "",
        ready: false,
        restartCount: 4,
        ...container,
      }],
    },
  };
}

Deno.test("podTrouble(): a crash loop shows the exit code and Redis's own words, on one line", () => {
  const trouble = podTrouble(
    pod("redis-a-2", {
      state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s restarting" } },
      lastState: { terminated: { exitCode: 1, message: configError } },
    }),
    now,
  );
  assert.equal(trouble?.reason, "PodCrashLooping");
  assert.equal(trouble?.idle, true);
  assert.equal(
    trouble?.message,
    `container redis of pod redis-a-2 keeps exiting (last exit code 1): *** FATAL CONFIG FILE ERROR (Redis 7.0.15) *** | Reading the configuration file, at line 14 | >>> 'maxmemory "lots"' | argument must be a memory value`,
  );
  assert.doesNotMatch(
    trouble!.message,
    /back-off 40s/,
    "the back-off window changes every restart",
  );
});

Deno.test("podTrouble(): a long last message keeps its end, where the reason is", () => {
  const message = "x".repeat(2000) + "\nthe reason";
  const trouble = podTrouble(
    pod("p", {
      state: { waiting: { reason: "CrashLoopBackOff" } },
      lastState: { terminated: { exitCode: 1, message } },
    }),
    now,
  );
  assert.ok(trouble!.message.endsWith("the reason"));
  assert.ok(trouble!.message.length < 700);
});

Deno.test("podTrouble(): both image pull reasons give the same message", () => {
  const message = 'image "nginx:latest" cannot be run here';
  const [first, later] = ["ErrImagePull", "ImagePullBackOff"].map((reason) =>
    podTrouble(pod("p", { image: "nginx:latest", state: { waiting: { reason, message } } }), now)
  );
  assert.equal(first?.reason, "ImagePullFailed");
  assert.equal(first?.message, later?.message);
  assert.match(first!.message, /image "nginx:latest" cannot be pulled: image "nginx:latest"/);
});

Deno.test("podTrouble(): a container that cannot be created, an unschedulable pod", () => {
  const config = podTrouble(
    pod("p", {
      state: { waiting: { reason: "CreateContainerConfigError", message: 'secret "s" not found' } },
    }),
    now,
  );
  assert.equal(config?.reason, "ContainerNotCreated");
  assert.match(config!.message, /CreateContainerConfigError\): secret "s" not found/);

  const pending: Pod = {
    metadata: { name: "p" },
    status: {
      phase: "Pending",
      conditions: [{
        type: "PodScheduled",
        status: "False",
        reason: "Unschedulable",
        message: "0/3 nodes are available: 3 Insufficient cpu.",
      }],
    },
  };
  assert.deepEqual(podTrouble(pending, now), {
    pod: "p",
    reason: "PodUnschedulable",
    message: "pod p cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu.",
    idle: true,
  });
});

Deno.test("podTrouble(): a running container not ready past the grace is trouble, not idle", () => {
  const startedAt = new Date(now.getTime() - notReadyGraceMs - 1000).toISOString();
  const running = { state: { running: { startedAt } } };
  const late = podTrouble(pod("p", running, { since: startedAt }), now);
  assert.equal(late?.reason, "ReadinessProbeFailing");
  assert.equal(late?.idle, false);
  assert.match(late!.message, new RegExp(`not been ready since ${startedAt}`));

  const fresh = new Date(now.getTime() - 5000).toISOString();
  assert.equal(
    podTrouble(pod("p", { state: { running: { startedAt: fresh } } }), now),
    undefined,
    "a restart starts the grace again",
  );
  assert.equal(podTrouble(pod("p", running, { ready: "True" }), now), undefined);
  assert.equal(
    podTrouble(pod("p", { ...running, ready: true }, { since: startedAt }), now),
    undefined,
  );
});

Deno.test("podTrouble(): healthy, starting and deleted pods are no trouble", () => {
  assert.equal(
    podTrouble(pod("p", { state: { waiting: { reason: "ContainerCreating" } } }), now),
    undefined,
  );
  const crashing = pod("p", { state: { waiting: { reason: "CrashLoopBackOff" } } });
  const deleted = {
    ...crashing,
    metadata: { ...crashing.metadata, deletionTimestamp: "2026-11-27T11:59:00Z" },
  };
  assert.ok(podTrouble(crashing, now));
  assert.equal(podTrouble(deleted, now), undefined);
});

Deno.test("podTroubleProblem(): every pod by name, the first one's reason", () => {
  assert.equal(podTroubleProblem([]), undefined);
  assert.deepEqual(
    podTroubleProblem([
      { pod: "redis-a-2", reason: "ImagePullFailed", message: "two", idle: true },
      { pod: "redis-a-1", reason: "PodCrashLooping", message: "one", idle: true },
    ]),
    { reason: "PodCrashLooping", message: "one; two" },
  );
});

Deno.test("idleOutdatedPod(): one idle pod on an older template, never the master's or one that answered", () => {
  const crash = { state: { waiting: { reason: "CrashLoopBackOff" } } };
  const startedAt = new Date(now.getTime() - 2 * notReadyGraceMs).toISOString();
  const pods = [
    pod("redis-a-0", crash),
    pod("redis-a-1", crash),
    pod("redis-a-2", crash, { revision: "new" }),
    pod("redis-a-3", { state: { running: { startedAt } } }, { since: startedAt }),
    pod("redis-a-4", {}),
  ];
  const troubles = pods.flatMap((p) => podTrouble(p, now) ?? []);
  assert.equal(troubles.length, 4);
  const none = new Set<string>();
  const name = (p: Pod | undefined) => p?.metadata?.name;
  assert.equal(name(idleOutdatedPod(pods, troubles, "new", "redis-a-0", none)), "redis-a-1");
  assert.equal(name(idleOutdatedPod(pods, troubles, "new", undefined, none)), "redis-a-1");
  assert.equal(
    name(idleOutdatedPod(pods, troubles, "new", undefined, new Set(["redis-a-1"]))),
    "redis-a-0",
    "a pod whose instance answered this pass is not idle, whatever its cached status says",
  );
  assert.equal(idleOutdatedPod(pods, troubles, undefined, undefined, none), undefined);
});

Deno.test("podTrouble(): a stuck sidecar is reported, but the pod still runs Redis", () => {
  const both: Pod = {
    metadata: { name: "p" },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: [
        {
          name: "redis",
          image: "redis:7",
          imageID: "",
          ready: true,
          restartCount: 0,
          state: { running: {} },
        },
        {
          name: "exporter",
          image: "oliver006/redis_exporter:typo",
          imageID: "",
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: "ImagePullBackOff" } },
        },
      ],
    },
  };
  const trouble = podTrouble(both, now);
  assert.equal(trouble?.reason, "ImagePullFailed");
  assert.match(trouble!.message, /container exporter of pod p/);
  assert.equal(trouble?.idle, false);
  const redisStuck = {
    ...both,
    status: {
      ...both.status,
      containerStatuses: both.status!.containerStatuses!.map((c) =>
        c.name === "redis" ? { ...c, state: { waiting: { reason: "CrashLoopBackOff" } } } : c
      ),
    },
  };
  assert.equal(podTrouble(redisStuck, now)?.idle, true, "the redis container comes first");
});

Deno.test("podTrouble(): a log line that may hold a password never reaches the message", () => {
  const trouble = podTrouble(
    pod("p", {
      state: { waiting: { reason: "CrashLoopBackOff" } },
      lastState: {
        terminated: {
          exitCode: 1,
          message:
            "*** FATAL CONFIG FILE ERROR ***\n>>> 'requirepass \"hunter2'\nUnbalanced quotes",
        },
      },
    }),
    now,
  );
  assert.doesNotMatch(trouble!.message, /hunter2/);
  assert.match(trouble!.message, /not shown\] \| Unbalanced quotes/);
});
