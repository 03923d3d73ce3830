/**
 * The status a pass reports: master, connected instances and conditions.
 * Pure: the clock comes in as `now`.
 *
 * @module
 */
import { ConditionType, Reason, setCondition } from "../api/conditions.ts";
import { type Redis, type RedisStatus, selectorLabels } from "../api/redis.ts";
import type { InstanceObservation, ReplicationPlan } from "./replication.ts";

/** A problem that needs a person; reported as Degraded. */
export interface Problem {
  readonly reason: string;
  readonly message: string;
}

/** What a pass knows when it reports. */
export interface StatusInput {
  readonly redis: Redis;
  readonly plan: ReplicationPlan | undefined;
  readonly observations: readonly InstanceObservation[];
  readonly master?:
    | { readonly pod: string; readonly ip: string; readonly epoch: number }
    | undefined;
  readonly problem?: Problem | undefined;
  readonly now: string;
  /**
   * A problem that needs a person but leaves replication and rollouts alone (a
   * Sentinel name held by another Redis): Degraded only, never Ready=False.
   */
  readonly advisory?: Problem | undefined;
  /** The master name the Sentinel endpoint serves it under, `""` for none. */
  readonly sentinelMasterName?: string;
}

/** Master plus the instances that replicate from it with the link up. */
export function countConnected(
  observations: readonly InstanceObservation[],
  masterIP: string | undefined,
): number {
  if (!masterIP) return 0;
  const master = observations.find((o) => o.ip === masterIP && o.info?.role === "master");
  if (!master) return 0;
  return 1 +
    observations.filter((o) =>
      o.info?.role === "replica" && o.info.masterHost === masterIP && o.info.masterLinkUp
    ).length;
}

/** Builds the full status. */
export function buildStatus(input: StatusInput): RedisStatus {
  const { redis, plan, problem, now } = input;
  const desired = redis.spec?.replicas ?? 3;
  const connected = countConnected(input.observations, input.master?.ip);
  const generation = redis.metadata?.generation;
  const healthy = plan?.kind === "Healthy" && connected === desired && !problem;
  const progress = describeProgress(plan, connected, desired);
  let conditions = redis.status?.conditions;
  const at = (type: string, status: "True" | "False", reason: string, message: string) =>
    conditions = setCondition(conditions, {
      type,
      status,
      reason,
      message,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    }, now);
  at(
    ConditionType.Ready,
    healthy ? "True" : "False",
    healthy ? Reason.Healthy : problem?.reason ?? progress.reason,
    healthy
      ? `master ${input.master?.pod} with ${connected - 1} connected replicas`
      : problem?.message ?? progress.message,
  );
  at(
    ConditionType.Progressing,
    healthy ? "False" : "True",
    healthy ? Reason.AsExpected : progress.reason,
    healthy ? "nothing to do" : progress.message,
  );
  const degraded = problem && input.advisory
    ? { reason: problem.reason, message: `${problem.message}; ${input.advisory.message}` }
    : problem ?? input.advisory;
  at(
    ConditionType.Degraded,
    degraded ? "True" : "False",
    degraded?.reason ?? Reason.AsExpected,
    degraded?.message ?? "no problems",
  );
  return {
    ...(input.master
      ? { master: input.master.pod, masterIP: input.master.ip, epoch: input.master.epoch }
      : {}),
    replicas: connected,
    selector: Object.entries(selectorLabels(redis)).map(([k, v]) => `${k}=${v}`).join(","),
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions: conditions ?? [],
    ...(input.sentinelMasterName === undefined
      ? {}
      : { sentinelMasterName: input.sentinelMasterName }),
  };
}

function describeProgress(plan: ReplicationPlan | undefined, connected: number, desired: number) {
  switch (plan?.kind) {
    case undefined:
      return { reason: Reason.Creating, message: "creating the objects" };
    case "Wait":
      return { reason: Reason.WaitingForInstances, message: plan.message };
    case "Promote":
    case "Switchover":
    case "Reattach":
      return {
        reason: Reason.Reconfiguring,
        message: `pointing instances at master ${plan.master.pod}`,
      };
    case "Healthy":
      return {
        reason: Reason.WaitingForInstances,
        message: `${connected} of ${desired} instances connected to master ${plan.master.pod}`,
      };
  }
}

/**
 * The status written before a new master is made: the intent (master, epoch)
 * and conditions saying the replication is being reconfigured, so nobody
 * reads a Ready status while the change is under way.
 */
export function buildIntentStatus(
  redis: Redis,
  intent: { readonly pod: string; readonly ip: string; readonly epoch: number },
  message: string,
  now: string,
): RedisStatus {
  let conditions = redis.status?.conditions;
  const generation = redis.metadata?.generation;
  const at = (type: string, status: "True" | "False") =>
    conditions = setCondition(conditions, {
      type,
      status,
      reason: Reason.Reconfiguring,
      message,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    }, now);
  at(ConditionType.Ready, "False");
  at(ConditionType.Progressing, "True");
  return {
    master: intent.pod,
    masterIP: intent.ip,
    epoch: intent.epoch,
    conditions: conditions ?? [],
  };
}
