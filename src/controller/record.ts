/**
 * What a pass records for people: the status (written only when it changed)
 * and Events on the Redis.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { Redis, RedisStatus } from "../api/redis.ts";
import type { ReplicationPlan } from "../decide/replication.ts";
import { buildStatus, type Problem } from "../decide/status.ts";
import { recordEvent } from "../kube/events.ts";
import type { ReconcileDeps } from "./deps.ts";
import type { ObservedInstance } from "./observe.ts";

/** The master after a pass, with the epoch of its election. */
export interface MasterRecord {
  readonly pod: string;
  readonly ip: string;
  readonly epoch: number;
}

/** Writes the status when it changed; a new problem also becomes an Event. */
export async function report(
  deps: ReconcileDeps,
  redis: Redis,
  input: {
    plan: ReplicationPlan | undefined;
    observed: readonly ObservedInstance[];
    master?: MasterRecord | undefined;
    problem?: Problem | undefined;
    /** Shown as Degraded without touching Ready (decide/status.ts). */
    advisory?: Problem | undefined;
    /** The name the Sentinel endpoint serves it under, `""` for none. */
    sentinelMasterName?: string | undefined;
    /** The version the write is conditional on (optimistic concurrency). */
    resourceVersion?: string | undefined;
  },
): Promise<RedisStatus> {
  const now = deps.now().toISOString().replace(/\.\d+Z$/, "Z");
  const master = input.master ??
    (redis.status?.master
      ? {
        pod: redis.status.master,
        ip: redis.status.masterIP ?? "",
        epoch: redis.status.epoch ?? 0,
      }
      : undefined);
  const status = buildStatus({
    redis,
    plan: input.plan,
    observations: input.observed.map((o) => o.observation),
    master,
    problem: input.problem,
    advisory: input.advisory,
    now,
    ...(input.sentinelMasterName === undefined
      ? {}
      : { sentinelMasterName: input.sentinelMasterName }),
  });
  const previous = redis.status ?? {};
  // Exactly equal: a custom resource keeps zero values (epoch 0 is not "no epoch"), so the
  // owned objects' drift rule (decide/drift.ts) does not apply here.
  if (isDeepStrictEqual(status, previous)) return status;
  const hadProblem = previous.conditions?.find((c) => c.type === "Degraded");
  const hasProblem = status.conditions?.find((c) => c.type === "Degraded");
  if (
    hasProblem?.status === "True" &&
    (hadProblem?.status !== "True" || hadProblem.message !== hasProblem.message)
  ) {
    await event(deps, redis, "Warning", hasProblem.reason!, hasProblem.message!);
  }
  // Conditional on the version the pass worked from, so a stale cache never moves the epoch
  // back or overwrites a newer master.
  const resourceVersion = input.resourceVersion ?? redis.metadata?.resourceVersion;
  await deps.apis.redis.patchStatus(redis.metadata!.namespace!, redis.metadata!.name!, {
    ...(resourceVersion ? { metadata: { resourceVersion } } : {}),
    status,
  });
  return status;
}

/** Records an Event on the Redis; a failure to record is logged, never fatal. */
export async function event(
  deps: ReconcileDeps,
  redis: Redis,
  type: "Normal" | "Warning",
  reason: string,
  message: string,
) {
  const error = await recordEvent(deps.client, "redis-operator", {
    apiVersion: "redis-operator.dev/v1alpha1",
    kind: "Redis",
    namespace: redis.metadata?.namespace ?? "",
    name: redis.metadata?.name ?? "",
    ...(redis.metadata?.uid ? { uid: redis.metadata.uid } : {}),
  }, { type, reason, message });
  if (error) deps.log.warn("event not recorded", { reason, error: String(error) });
}
