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
import type { InstanceObservation } from "./replication.ts";

/** The fencing settings of one instance. */
export interface Fencing {
  readonly minReplicasToWrite: number;
  readonly minReplicasMaxLagSeconds: number;
}

/**
 * The instances whose live fencing differs from `wanted`, by pod name.
 * Instances whose settings could not be read are left out.
 *
 * @example
 * ```ts
 * const wanted = { minReplicasToWrite: 1, minReplicasMaxLagSeconds: 2 };
 * const left = { minReplicasToWrite: 1000000, minReplicasMaxLagSeconds: 2 };
 * console.assert(
 *   decideFencingRepairs([{ pod: "p", ordinal: 0, ip: "", ready: true, fencing: left }], wanted)[0] === "p",
 * );
 * ```
 */
export function decideFencingRepairs(
  observations: readonly InstanceObservation[],
  wanted: Fencing,
): string[] {
  return observations.filter((o) =>
    o.fencing !== undefined &&
    (o.fencing.minReplicasToWrite !== wanted.minReplicasToWrite ||
      o.fencing.minReplicasMaxLagSeconds !== wanted.minReplicasMaxLagSeconds)
  ).map((o) => o.pod);
}
