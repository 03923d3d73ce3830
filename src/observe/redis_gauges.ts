/**
 * The per-Redis gauges a pass leaves behind: instances connected and wanted,
 * each condition, the master, and how far each replica is behind it. They
 * feed the PrometheusRule alerts (deploy/monitoring).
 *
 * @module
 */
import type { Redis, RedisStatus } from "../api/redis.ts";
import type { InstanceObservation } from "../decide/replication.ts";
import { type OperatorMetrics, redisLabels } from "./metrics.ts";

/**
 * Bytes each replica of the master at `masterIP` is behind it, by pod, from
 * one pass's INFO (read in parallel, so a busy master shows a little lag).
 * Pure.
 */
export function replicationLags(
  observations: readonly InstanceObservation[],
  masterIP: string | undefined,
): Map<string, number> {
  const lags = new Map<string, number>();
  const master = observations.find((o) => o.ip === masterIP && o.info?.role === "master");
  if (!master?.info) return lags;
  for (const o of observations) {
    if (o.info?.role !== "replica" || o.info.masterHost !== masterIP) continue;
    lags.set(o.pod, Math.max(0, master.info.offset - o.info.offset));
  }
  return lags;
}

/** Sets the gauges of `redis` from the status a pass wrote and what it observed. */
export function recordRedisGauges(
  metrics: OperatorMetrics,
  redis: Redis,
  status: RedisStatus,
  observations: readonly InstanceObservation[],
): void {
  const labels = redisLabels(redis);
  metrics.forgetRedis({ namespace: labels.namespace!, name: labels.name! });
  metrics.connectedInstances.set(labels, status.replicas ?? 0);
  metrics.desiredInstances.set(labels, redis.spec?.replicas ?? 3);
  for (const c of status.conditions ?? []) {
    metrics.condition.set(
      { ...labels, type: c.type, reason: c.reason },
      c.status === "True" ? 1 : 0,
    );
  }
  if (status.master) {
    metrics.masterInfo.set({ ...labels, pod: status.master, epoch: String(status.epoch ?? 0) }, 1);
  }
  for (const [pod, lag] of replicationLags(observations, status.masterIP)) {
    metrics.replicationLag.set({ ...labels, pod }, lag);
  }
}
