/**
 * Carries out a replication plan: promotion, planned handover, repointing
 * replicas. The intent (new master, new epoch) is written to the status
 * before any Redis is touched; a Redis that refuses a command is a problem
 * to report, not a crash.
 *
 * @module
 */
import { Reason } from "../api/conditions.ts";
import { type Redis, servingPort } from "../api/redis.ts";
import { servesStaleData } from "../api/config_values.ts";
import { wantedFencing } from "../decide/fencing.ts";
import { servesStaleWhileFollowing } from "../decide/stale_reads.ts";
import type { ReplicationPlan } from "../decide/replication.ts";
import { HandedOverError } from "../redis/client.ts";
import { buildIntentStatus, type Problem } from "../decide/status.ts";
import { redisLabels } from "../observe/metrics.ts";
import { noLongerLeading, type ReconcileDeps } from "./deps.ts";
import type { ObservedInstance } from "./observe.ts";
import { event, type MasterRecord } from "./record.ts";
import { NotLeadingError } from "./leading_guard.ts";

/**
 * How long a planned handover may refuse writes (the master is fenced) before
 * it is rolled back. A target in sync catches up within milliseconds; one that
 * cannot in a second is not worth a longer refusal (the next pass tries again).
 */
const handoverTimeoutMs = 1000;

/** Carries out the plan; Redis refusing a command is a problem to report, not a crash. */
export async function carryOut(
  deps: ReconcileDeps,
  redis: Redis,
  plan: ReplicationPlan,
  observed: readonly ObservedInstance[],
): Promise<
  { master?: MasterRecord; problem?: Problem; resourceVersion?: string; readHold?: string }
> {
  const status = redis.status ?? {};
  // Every status write is conditional on the version this pass read (or last wrote): a
  // pass working from a stale cache gets a conflict instead of moving the epoch back.
  let resourceVersion = redis.metadata?.resourceVersion;
  const at = () => (resourceVersion === undefined ? {} : { resourceVersion });
  const epoch = status.epoch ?? 0;
  const { minReplicasToWrite } = wantedFencing(redis, observed.map((o) => o.observation));
  if (plan.kind === "Wait") {
    const recorded = observed.find((o) =>
      o.observation.pod === status.master && o.observation.info?.role === "master"
    );
    return recorded
      ? { master: { pod: recorded.observation.pod, ip: recorded.observation.ip, epoch }, ...at() }
      : at();
  }
  const master = plan.master;
  const port = servingPort(redis);
  const nodeOf = (pod: string) => observed.find((o) => o.observation.pod === pod)?.node;
  const observationOf = (pod: string) =>
    observed.find((o) => o.observation.pod === pod)?.observation;
  const wantStale = servesStaleData(redis.spec?.config);
  /**
   * Points `pod` at the master, answering reads meanwhile only from the master's history;
   * `stoppedMaster` is the address of a master already kept from taking writes.
   */
  const follow = (pod: string, stoppedMaster?: string) =>
    nodeOf(pod)!.replicaOf(
      master.ip,
      port,
      servesStaleWhileFollowing(
        wantStale,
        observationOf(pod),
        observationOf(master.pod),
        stoppedMaster,
        // The recorded master a failover replaces: a replica whose link to it is down
        // receives nothing more.
        plan.kind === "Promote" && status.masterIP !== master.ip ? status.masterIP : undefined,
      ),
    );
  const failures: string[] = [];
  const attempt = async (pod: string, what: string, run: () => Promise<void>) => {
    // A leader whose Lease ran out meanwhile (its controller is stopping) changes no Redis:
    // the next leader may already be acting on it.
    if (noLongerLeading(deps)) {
      deps.metrics.effectsNotSent.inc({ kind: "redis" });
      deps.log.info("effect not sent: this operator no longer leads", { what: `${pod} ${what}` });
      failures.push(new NotLeadingError(`${pod}: ${what}`).message);
      return;
    }
    try {
      await run();
    } catch (error) {
      failures.push(`${pod}: ${what}: ${error instanceof Error ? error.message : error}`);
    }
  };
  let record: MasterRecord = { pod: master.pod, ip: master.ip, epoch };
  /** The old master a handover parked, to hold once the master Service has moved. */
  let readHold: string | undefined;
  const started = performance.now();
  if (plan.kind === "Promote") {
    const changed = master.pod !== status.master || master.ip !== status.masterIP;
    if (changed) {
      // The intent goes into the status first: an operator restarted from here
      // on re-derives the same master instead of choosing another.
      record = { ...record, epoch: epoch + 1 };
      resourceVersion = await writeIntent(
        deps,
        redis,
        record,
        `making ${record.pod} the master (${plan.reason})`,
      );
    }
    if (plan.promote) {
      await attempt(master.pod, "promote", () => nodeOf(master.pod)!.promote(minReplicasToWrite));
    }
    if (failures.length) {
      // The intent stays: the promotion may have run though its reply was lost, and the
      // next pass sees which. Recording the lost master under the new epoch would let
      // two masters share one epoch.
      return { master: record, problem: redisProblem(failures), ...at() };
    }
    await Promise.all(
      plan.reattach.map((i) => attempt(i.pod, "replicaof", () => follow(i.pod))),
    );
    if (changed) {
      deps.metrics.failovers.inc({ ...redisLabels(redis), reason: plan.reason });
      deps.metrics.failoverSeconds.observe((performance.now() - started) / 1000);
      const previous = status.master ? `; the previous master was ${status.master}` : "";
      await event(
        deps,
        redis,
        plan.reason === "Initialize" ? "Normal" : "Warning",
        Reason.MasterChanged,
        `${master.pod} (${master.ip}) is the master, epoch ${record.epoch}: ${
          describeReason(plan.reason)
        }${previous}`,
      );
      deps.log.with({ namespace: redis.metadata?.namespace, name: redis.metadata?.name })
        .info("master changed", { master: master.pod, reason: plan.reason, epoch: record.epoch });
    }
  } else if (plan.kind === "Switchover") {
    // Planned: the intent first, then a handover that loses no acknowledged write.
    record = { ...record, epoch: epoch + 1 };
    resourceVersion = await writeIntent(
      deps,
      redis,
      record,
      `handing over from ${plan.from.pod} to ${record.pod} (${plan.reason})`,
    );
    const from = nodeOf(plan.from.pod)!;
    let outcome: "parked" | "promoted" | "failed" = "failed";
    await attempt(plan.from.pod, "handover", async () => {
      try {
        await from.handOver(nodeOf(master.pod)!, handoverTimeoutMs, minReplicasToWrite);
        outcome = "parked";
      } catch (error) {
        if (error instanceof Error && error.cause instanceof HandedOverError) outcome = "promoted";
        throw error;
      }
    });
    if (outcome === "failed") {
      return {
        master: { pod: plan.from.pod, ip: plan.from.ip, epoch: record.epoch },
        problem: redisProblem(failures),
        ...at(),
      };
    }
    // Handed over, the old master takes no more writes: its replicas hold the new master's.
    await Promise.all(
      plan.reattach.map((i) => attempt(i.pod, "replicaof", () => follow(i.pod, plan.from.ip))),
    );
    if (outcome === "parked") {
      // Parked, the old master refuses reads while kube-proxy moves (readHoldMs); but
      // while it is held the new master has only the others to meet its fence with.
      const others = observed.filter(({ observation: o }) =>
        o.pod !== plan.from.pod && o.pod !== master.pod && o.info && !o.terminating &&
        !failures.some((f) => f.startsWith(`${o.pod}:`))
      );
      if (others.length >= minReplicasToWrite) readHold = plan.from.pod;
      else {
        await attempt(
          plan.from.pod,
          "replicaof",
          () => follow(plan.from.pod),
        );
      }
    }
    deps.metrics.failovers.inc({ ...redisLabels(redis), reason: plan.reason });
    deps.metrics.failoverSeconds.observe((performance.now() - started) / 1000);
    await event(
      deps,
      redis,
      "Normal",
      Reason.MasterChanged,
      `${master.pod} (${master.ip}) is the master, epoch ${record.epoch}: planned handover from ${plan.from.pod} (${
        describeHandover(plan.reason)
      })`,
    );
    deps.log.with({ namespace: redis.metadata?.namespace, name: redis.metadata?.name })
      .info("master handed over", {
        from: plan.from.pod,
        master: master.pod,
        reason: plan.reason,
        epoch: record.epoch,
        // Whether the old master refuses reads while kube-proxy moves (see readHoldMs).
        readsHeld: readHold !== undefined,
      });
  } else if (plan.kind === "Reattach") {
    await Promise.all(
      plan.reattach.map((i) => attempt(i.pod, "replicaof", () => follow(i.pod))),
    );
    const pods = plan.reattach.map((i) => i.pod).join(", ");
    await event(
      deps,
      redis,
      "Normal",
      Reason.ReplicaReattached,
      `Pointed ${pods} at master ${master.pod}`,
    );
  }
  const held = readHold ? { readHold } : {};
  return failures.length
    ? { master: record, problem: redisProblem(failures), ...held, ...at() }
    : { master: record, ...held, ...at() };
}

/**
 * Writes the intent (new master, epoch) and Ready=False before any Redis is
 * touched, on the condition that the Redis is still at the version the pass
 * read: a 409 ends the pass before anything is changed. Returns the new version.
 */
async function writeIntent(
  deps: ReconcileDeps,
  redis: Redis,
  record: MasterRecord,
  message: string,
): Promise<string | undefined> {
  const now = deps.now().toISOString().replace(/\.\d+Z$/, "Z");
  const written = await deps.apis.redis.patchStatus(
    redis.metadata!.namespace!,
    redis.metadata!.name!,
    {
      metadata: { resourceVersion: redis.metadata?.resourceVersion },
      status: buildIntentStatus(redis, record, message, now),
    },
  );
  if (deps.pauseAfterIntentMs > 0) await new Promise((r) => setTimeout(r, deps.pauseAfterIntentMs));
  return written.metadata?.resourceVersion;
}

function describeHandover(reason: string): string {
  switch (reason) {
    case "MasterTerminating":
      return "its pod is being deleted";
    case "ScaleDown":
      return "its pod is removed by the scale-down";
    case "Requested":
      return "requested with SENTINEL FAILOVER or the redis-operator.dev/switchover annotation";
    default:
      return "rolling update";
  }
}

function describeReason(reason: string): string {
  switch (reason) {
    case "Initialize":
      return "elected among fresh instances";
    case "Failover":
      return "the master was lost and this replica had the most data";
    case "Adopt":
      return "the recorded master is gone and this is the one master with replicas";
    default:
      return "two masters had replicas; this one is kept";
  }
}

function redisProblem(failures: string[]): Problem {
  return {
    reason: Reason.RedisCommandFailed,
    // Sorted: the same failures make the same message, so the status is not rewritten.
    message: `Redis refused a command: ${[...failures].sort().join("; ")}`,
  };
}
