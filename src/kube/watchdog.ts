/**
 * An idle detector for long-lived streams.
 *
 * @module
 */

/**
 * Calls `onIdle` once when `kick()` has not been called for `idleMs`
 * milliseconds (measured on the monotonic clock). Only one timer is pending at
 * a time however often `kick()` runs: when it fires early it re-arms itself for
 * the remainder, so a busy watch costs no timer churn.
 *
 * @example
 * ```ts
 * const dog = new Watchdog(60_000, () => console.log("idle"));
 * dog.kick(); // on every event
 * dog.stop(); // when the stream ends
 * ```
 */
export class Watchdog {
  readonly #idleMs: number;
  readonly #onIdle: () => void;
  #last = performance.now();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(idleMs: number, onIdle: () => void) {
    this.#idleMs = idleMs;
    this.#onIdle = onIdle;
    this.#arm(idleMs);
  }

  /** Something arrived: the idle time starts again. */
  kick(): void {
    this.#last = performance.now();
  }

  /** Stops watching; `onIdle` is not called afterwards. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      const idle = performance.now() - this.#last;
      if (idle < this.#idleMs) return this.#arm(this.#idleMs - idle);
      this.#timer = undefined;
      this.#onIdle();
    }, ms);
  }
}
