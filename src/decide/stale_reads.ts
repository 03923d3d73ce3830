/**
 * When may a replica answer reads without a master link? Pure.
 *
 * Until its first sync with a new master, a replica answers reads from what it
 * held before. That is nothing for a process that restarted (every key read
 * as missing), or another history for a former master, and the master Service
 * may still send clients to it (kube-proxy's delay, or for as long as the API
 * server is down). Found by the control-plane chaos test: 8 ms of empty reads
 * while a restarted master copied its new master's data. So every start as a
 * replica, and every `REPLICAOF` to a master whose history the instance does
 * not share, turns `replica-serve-stale-data` off; once the instance is in
 * sync with the master the operator settled on, the spec's value applies
 * again (it matters only when the link is lost later). A replica that already
 * holds a prefix of the new master's data keeps the spec's value throughout,
 * so read replicas keep answering while they follow a new master.
 *
 * @module
 */
import { parkingAddress } from "./parking.ts";
import { type InstanceObservation, sharesHistory } from "./replication.ts";

/**
 * The `replica-serve-stale-data` to send with `REPLICAOF` pointing `instance`
 * at `master` (both as observed before the pass acted; a master it promoted
 * kept its history under its former ID): the spec's value only when what
 * `instance` holds is a prefix of the master's history, else no.
 *
 * The observation is older than the command, so it must also be one whose
 * data cannot have left that history since, and not in a full copy: a replica
 * of `master` itself, of `stoppedMaster` (a master this pass has already
 * stopped from taking writes: a handover's parked master), or, its link down,
 * of `lostMaster` (the recorded master a failover replaces) or the parking
 * address. A master, or a replica of any other master (a partition's other
 * side, whose link may come back at any moment), may have moved on;
 * following, it would answer reads from data about to be replaced.
 *
 * @example
 * ```ts
 * const info = {
 *   role: "replica" as const, connectedReplicas: [], replId: "a", replId2: "", offset: 10,
 *   secondReplOffset: -1, failoverState: "no-failover",
 * };
 * const replica = { pod: "r", ordinal: 1, ip: "10.0.0.2", ready: true, info };
 * const master = { pod: "m", ordinal: 0, ip: "10.0.0.1", ready: true, info: { ...info, offset: 12 } };
 * console.assert(servesStaleWhileFollowing(true, replica, master));
 * console.assert(!servesStaleWhileFollowing(true, { ...replica, info: { ...info, replId: "b" } }, master));
 * ```
 */
export function servesStaleWhileFollowing(
  wanted: boolean,
  instance: InstanceObservation | undefined,
  master: InstanceObservation | undefined,
  stoppedMaster?: string,
  lostMaster?: string,
): boolean {
  if (!wanted || !instance?.info || !master?.info) return false;
  const { role, masterLinkUp, masterHost, syncInProgress } = instance.info;
  const holdsStill = role === "replica" && syncInProgress !== true && masterHost !== undefined &&
    (masterHost === master.ip || masterHost === stoppedMaster ||
      (masterLinkUp !== true &&
        (masterHost === lostMaster || masterHost === parkingAddress.host)));
  return holdsStill &&
    sharesHistory({ ...instance, info: instance.info }, { ...master, info: master.info });
}

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
