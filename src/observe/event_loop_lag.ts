/**
 * Notices when the operator's event loop (or its process, starved of CPU)
 * falls behind: a timer that should fire every `intervalMs` fires late. Every
 * failover decision and Lease renewal runs on that loop, so a stall explains
 * a slow failover or a lost Lease that the API server's latency does not.
 *
 * @module
 */

/** Calls `onStall(lateMs)` whenever a tick comes more than `thresholdMs` late; returns a stop function. */
export function watchEventLoopLag(
  onStall: (lateMs: number) => void,
  intervalMs = 200,
  thresholdMs = 1000,
): () => void {
  let expected = performance.now() + intervalMs;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - expected;
    if (late > thresholdMs) onStall(late);
    expected = now + intervalMs;
  }, intervalMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
