/**
 * Former masters that refuse reads after a handover, until kube-proxy has
 * moved the master Service (decide/replication.ts, `readHoldMs`).
 *
 * A hint in this process, like the settle timer: an operator restarted
 * meanwhile finds the old master parked without a hold and points it at the
 * new master at once. That costs the guarantee against stale reads for that
 * one handover, never data: the parked instance keeps its data and refuses
 * writes either way.
 *
 * @module
 */

/** Redis key (`namespace/name`) → pod → when its hold ends (ms since the epoch). */
const holds = new Map<string, Map<string, number>>();

/** Records that `pod` of the Redis `key` refuses reads for `forMs` from `nowMs`. */
export function holdReads(key: string, pod: string, nowMs: number, forMs: number): void {
  // Holds of Redis resources deleted since are dropped here, so none outlives its time long.
  for (const other of [...holds.keys()]) readHoldsLeft(other, nowMs);
  const pods = holds.get(key) ?? new Map<string, number>();
  pods.set(pod, nowMs + forMs);
  holds.set(key, pods);
}

/**
 * The holds of the Redis `key` still running at `nowMs`, as pod → milliseconds
 * left. Ended holds are forgotten.
 */
export function readHoldsLeft(key: string, nowMs: number): Map<string, number> {
  const left = new Map<string, number>();
  const pods = holds.get(key);
  if (!pods) return left;
  for (const [pod, untilMs] of pods) {
    if (untilMs > nowMs) left.set(pod, Math.ceil(untilMs - nowMs));
    else pods.delete(pod);
  }
  if (pods.size === 0) holds.delete(key);
  return left;
}
