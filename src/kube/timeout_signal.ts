/**
 * A time limit for one piece of I/O, as an AbortSignal that also follows the
 * caller's signal.
 *
 * @module
 */

/** What {@linkcode timeoutSignal} returns. */
export interface TimeoutSignal {
  /** Aborts when the time is up (reason: a `TimeoutError` carrying the message) or the parent aborts. */
  readonly signal: AbortSignal;
  /** True when the time ran out, as opposed to the parent aborting first. */
  readonly expired: boolean;
  /**
   * Stops the timer. The signal still follows the parent afterwards, which a
   * streaming response needs: its body outlives the time limit on the headers.
   */
  clear(): void;
}

/**
 * A signal that aborts after `ms` milliseconds with a `TimeoutError` saying
 * `message`, or earlier when `parent` aborts (with the parent's reason).
 *
 * Unlike `AbortSignal.timeout`, the timer is cleared with `clear()`, so
 * thousands of finished requests leave no pending timers behind.
 *
 * @example
 * ```ts
 * const limit = timeoutSignal(1000, undefined, "Demo request timed out after 1000 ms");
 * try {
 *   await Promise.resolve(); // the I/O, given limit.signal
 * } finally {
 *   limit.clear();
 * }
 * console.assert(!limit.expired);
 * ```
 */
export function timeoutSignal(
  ms: number,
  parent: AbortSignal | undefined,
  message: string,
): TimeoutSignal {
  const timer = new AbortController();
  const id = setTimeout(() => timer.abort(new DOMException(message, "TimeoutError")), ms);
  const signal = parent ? AbortSignal.any([parent, timer.signal]) : timer.signal;
  return {
    signal,
    get expired() {
      // `any` takes the first reason: the parent's, when it aborted first.
      return timer.signal.aborted && signal.reason === timer.signal.reason;
    },
    clear: () => clearTimeout(id),
  };
}
