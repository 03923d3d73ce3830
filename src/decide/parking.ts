/**
 * Replicas still pointed at the address of a master whose pod is gone. Pure.
 *
 * A replica retries its master's address for as long as it is configured
 * with it. Once the pod that had the address is deleted, another pod, even
 * an unrelated Redis of another tenant, may be given the same address; a
 * replica that reaches it would copy it in full and throw its own data
 * away. While no failover can take place (too few instances answer, or no
 * replica may be promoted), such replicas are pointed at an address that
 * refuses connections (`REPLICAOF 127.0.0.1 1`, as the start script does for
 * a restarted master): they keep their data and wait for the operator.
 *
 * @module
 */
import type { InstanceObservation, RecordedMaster } from "./replication.ts";

/** The address a parked replica follows: nothing listens on port 1 of its own loopback. */
export const parkingAddress = { host: "127.0.0.1", port: 1 } as const;

/**
 * The pods to park: replicas that follow the recorded master's address when
 * no pod has that address under the recorded name any more.
 *
 * @example
 * ```ts
 * console.assert(decideParking([], { pod: "redis-a-0", ip: "198.18.1.5" }).length === 0);
 * ```
 */
export function decideParking(
  observations: readonly InstanceObservation[],
  recorded: RecordedMaster,
): string[] {
  if (!recorded.pod || !recorded.ip) return [];
  const masterPod = observations.find((o) => o.pod === recorded.pod);
  if (masterPod?.ip === recorded.ip) return [];
  return observations.filter((o) =>
    o.info?.role === "replica" && o.info.masterHost === recorded.ip && o.ip !== recorded.ip
  ).map((o) => o.pod);
}
