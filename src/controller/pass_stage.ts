/**
 * What each running reconcile pass is waiting for, by Redis key, so a pass
 * that takes far longer than it should says where it is (in the log) rather
 * than leaving its Redis unattended in silence. Every call the pass makes has
 * a deadline of its own; this is how a missing one would show.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";

const stages = new Map<string, string>();

/** Records that the pass of `key` is now at `stage`. */
export function enterStage(key: string, stage: string): void {
  stages.set(key, stage);
}

/** Is a pass of `key` running now? */
export function passRunning(key: string): boolean {
  return stages.has(key);
}

/** How often a pass still running says where it is. */
export const slowPassReportMs = 15_000;

/**
 * Runs `pass` for `key`; while it runs longer than {@linkcode slowPassReportMs},
 * logs a warning with its stage every that long.
 */
export async function watchedPass<T>(
  key: string,
  log: Pick<Logger, "warn">,
  pass: () => Promise<T>,
  reportMs = slowPassReportMs,
): Promise<T> {
  const started = Date.now();
  stages.set(key, "start");
  const timer = setInterval(() => {
    log.warn("pass still running", {
      key,
      stage: stages.get(key),
      seconds: Math.round((Date.now() - started) / 1000),
    });
  }, reportMs);
  try {
    return await pass();
  } finally {
    clearInterval(timer);
    stages.delete(key);
  }
}
