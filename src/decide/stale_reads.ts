/**
 * Which replicas may answer reads without a master link again? Pure.
 *
 * Every `REPLICAOF` the operator sends, and every start as a replica, turns
 * `replica-serve-stale-data` off: until its first sync with its master, a
 * replica would answer reads from what it held before. That is nothing for a
 * process that restarted (every key read as missing), or another history for
 * a former master, and the master Service may still send clients to it (kube-proxy's
 * delay, or for as long as the API server is down). Found by the
 * control-plane chaos test: 8 ms of empty reads while a restarted master
 * copied its new master's data. Once it is in sync with the master the
 * operator settled on, the spec's value applies again: it matters only when
 * the link is lost later.
 *
 * @module
 */
import type { InstanceObservation } from "./replication.ts";

/**
 * The pods whose `replica-serve-stale-data` should be set back to `wanted`:
 * replicas of `masterIp` with the link up and no sync in progress, whose
 * live value differs. Instances whose value could not be read are left out.
 *
 * @example
 * ```ts
 * const synced = {
 *   pod: "p", ordinal: 0, ip: "10.0.0.2", ready: true, serveStaleData: false,
 *   info: {
 *     role: "replica" as const, connectedReplicas: [], replId: "", replId2: "", offset: 0,
 *     secondReplOffset: -1, failoverState: "no-failover", masterHost: "10.0.0.1",
 *     masterLinkUp: true, syncInProgress: false,
 *   },
 * };
 * console.assert(decideServeStaleRestores([synced], true, "10.0.0.1")[0] === "p");
 * ```
 */
export function decideServeStaleRestores(
  observations: readonly InstanceObservation[],
  wanted: boolean,
  masterIp: string | undefined,
): string[] {
  if (!masterIp) return [];
  return observations.filter((o) =>
    o.serveStaleData !== undefined && o.serveStaleData !== wanted &&
    o.info?.role === "replica" && o.info.masterHost === masterIp &&
    o.info.masterLinkUp === true && o.info.syncInProgress !== true
  ).map((o) => o.pod);
}
