/**
 * Container restart back-off as kubelet v1.37 does it with default settings
 * (pkg/kubelet: flowcontrol.Backoff with a 10 s start, doubling to 300 s, an
 * entry that expires 10 minutes after its last restart). Pure functions of
 * times in milliseconds.
 *
 * - The first restart after an exit has no entry yet, so it is immediate; it
 *   creates the entry at 10 s.
 * - Later exits wait until `finishedAt + backoff`; the restart then doubles
 *   the back-off, up to 300 s.
 * - An exit more than 10 minutes after the last restart finds the entry
 *   expired: the restart is immediate again and the entry starts over.
 *
 * @module
 */

/** The back-off state of one container: the current window and when it was last restarted. */
export interface BackoffEntry {
  readonly backoffMs: number;
  readonly lastRestartMs: number;
}

/** The kubelet's settings (`crashLoopBackOff.maxContainerRestartPeriod` is the maximum). */
export interface BackoffSettings {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly expireAfterMs: number;
}

/** kubelet v1.37 defaults: 10 s, doubling to 300 s, forgotten 600 s after the last restart. */
export const kubeletBackoff: BackoffSettings = {
  initialMs: 10_000,
  maxMs: 300_000,
  expireAfterMs: 600_000,
};

function expired(entry: BackoffEntry, finishedAtMs: number, settings: BackoffSettings): boolean {
  return finishedAtMs - entry.lastRestartMs > settings.expireAfterMs;
}

/**
 * How long a container that exited at `finishedAtMs` must still wait at `nowMs`
 * before it may start again; 0 when it may start now.
 */
export function backoffRemainingMs(
  entry: BackoffEntry | undefined,
  finishedAtMs: number,
  nowMs: number,
  settings: BackoffSettings = kubeletBackoff,
): number {
  if (!entry || expired(entry, finishedAtMs, settings)) return 0;
  return Math.max(entry.backoffMs - (nowMs - finishedAtMs), 0);
}

/** The entry after a restart at `nowMs` of a container that exited at `finishedAtMs`. */
export function afterRestart(
  entry: BackoffEntry | undefined,
  finishedAtMs: number,
  nowMs: number,
  settings: BackoffSettings = kubeletBackoff,
): BackoffEntry {
  const backoffMs = !entry || expired(entry, finishedAtMs, settings)
    ? settings.initialMs
    : Math.min(entry.backoffMs * 2, settings.maxMs);
  return { backoffMs, lastRestartMs: nowMs };
}

/**
 * When the kubelet looks again at a pod in back-off: its worker is requeued
 * after the remaining time (at most the 60 s sync frequency) stretched by a
 * random factor of 1 to 1.5 (`wait.Jitter(remaining, 0.5)`).
 */
export function requeueDelayMs(remainingMs: number, random: number): number {
  return Math.min(remainingMs, 60_000) * (1 + 0.5 * random);
}

/**
 * How long until the kubelet notices that a container exited: its pod
 * lifecycle event generator lists containers once a second.
 */
export function relistDelayMs(nowMs: number, periodMs = 1000): number {
  return periodMs - (nowMs % periodMs);
}
