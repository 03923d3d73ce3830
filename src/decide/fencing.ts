/**
 * Is every instance fenced as the spec says? Pure.
 *
 * A handover sets `min-replicas-to-write` out of reach on the master and lifts
 * it in the same transaction that demotes it; an operator that dies in
 * between, or a lift that fails, would leave a master refusing every write
 * while the status says Ready. redis.conf also only takes effect at start, so
 * a changed spec.failover would wait for a restart. Every pass therefore
 * compares the live settings of every instance with the spec.
 *
 * @module
 */
import { failoverSettings, majorityFence, type Redis } from "../api/redis.ts";
import type { InstanceObservation } from "./replication.ts";

/** The fencing settings of one instance. */
export interface Fencing {
  readonly minReplicasToWrite: number;
  readonly minReplicasMaxLagSeconds: number;
}

/**
 * The instances whose live fencing differs from `wanted`, by pod name: the
 * replicas and `master`, the master this pass settled on. Instances whose
 * settings could not be read are left out.
 *
 * @example
 * ```ts
 * const wanted = { minReplicasToWrite: 1, minReplicasMaxLagSeconds: 2 };
 * const left = { minReplicasToWrite: 1000000, minReplicasMaxLagSeconds: 2 };
 * console.assert(
 *   decideFencingRepairs([{ pod: "p", ordinal: 0, ip: "", ready: true, fencing: left }], wanted, "p")[0] === "p",
 * );
 * ```
 */
export function decideFencingRepairs(
  observations: readonly InstanceObservation[],
  wanted: Fencing,
  master?: string,
): string[] {
  return observations.filter((o) =>
    o.fencing !== undefined &&
    // Another master keeps its fence until it is demoted: lifting it would let it take
    // writes that are lost when it becomes a replica.
    (o.info?.role === "replica" || o.pod === master) &&
    (o.fencing.minReplicasToWrite !== wanted.minReplicasToWrite ||
      o.fencing.minReplicasMaxLagSeconds !== wanted.minReplicasMaxLagSeconds)
  ).map((o) => o.pod);
}

/**
 * The replicas a master needs to take writes when the spec does not say: a
 * majority with the master, counted over the instances that could be on the
 * other side of a cut and elect a master there. That is every pod, answering
 * or not, except newcomers that have never been in sync (a replica still in
 * its first full copy holds nothing worth promoting), and pods that neither
 * answer nor are Ready (still starting). So a scale-up from 3 to 6 does not
 * refuse writes while the new replicas start and copy, and the count goes up
 * as each one comes into sync; a Ready pod that stops answering still counts,
 * so a cut does not lower the fence (until the node lifecycle controller
 * marks the cut node's pods NotReady, 50 s on; the far side's master keeps
 * the fence it had).
 */
export function majorityOfMembers(observations: readonly InstanceObservation[]): number {
  const newcomer = (o: InstanceObservation) =>
    o.info !== undefined && o.info.role === "replica" && !o.info.masterLinkUp &&
    (o.info.linkDownSinceSeconds ?? -1) < 0 && o.info.offset === 0 && (o.keys ?? 0) === 0;
  // A pod that does not answer counts while the API server holds it Ready (cut off, or
  // stopped): not one that never became Ready (a new pod still starting).
  const member = (o: InstanceObservation) => o.info ? !newcomer(o) : o.ready;
  return majorityFence(observations.filter(member).length);
}

/** The fencing this pass puts on the master and replicas: the spec's, else the majority default. */
export function wantedFencing(
  redis: Redis,
  observations: readonly InstanceObservation[],
): Fencing {
  const settings = failoverSettings(redis);
  return {
    minReplicasToWrite: redis.spec?.failover?.minReplicasToWrite ??
      majorityOfMembers(observations),
    minReplicasMaxLagSeconds: settings.minReplicasMaxLagSeconds,
  };
}
