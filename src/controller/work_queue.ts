/**
 * A keyed work queue in the manner of controller-runtime: adding a key that is
 * already queued merges the two; a key is never processed twice at once (one
 * added while it runs is processed again afterwards); different keys run
 * concurrently up to a limit; failures retry with exponential back-off and
 * success forgets them.
 *
 * @module
 */

/** What processing a key asks for next. */
export interface WorkResult {
  /** Look at the key again after this long, even if nothing changes. */
  readonly requeueAfterMs?: number;
}

/** Options of {@linkcode WorkQueue}. */
export interface WorkQueueOptions {
  readonly concurrency: number;
  readonly signal: AbortSignal;
  readonly onError?: (key: string, error: unknown, retryInMs: number) => void;
  /** First retry delay; doubles per consecutive failure up to `maxBackoffMs`. */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** The queue; `process` is called with one key at a time per key. */
export class WorkQueue {
  readonly #process: (key: string) => Promise<WorkResult>;
  readonly #options: WorkQueueOptions;
  readonly #ready: string[] = [];
  readonly #queued = new Set<string>();
  readonly #running = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  readonly #failures = new Map<string, number>();
  #active = 0;
  #idle: Array<() => void> = [];

  constructor(process: (key: string) => Promise<WorkResult>, options: WorkQueueOptions) {
    this.#process = process;
    this.#options = options;
    options.signal.addEventListener("abort", () => {
      for (const { timer } of this.#timers.values()) clearTimeout(timer);
      this.#timers.clear();
    });
  }

  /** Queues `key` now, or after `delayMs` (an earlier pending time wins). */
  add(key: string, delayMs = 0): void {
    if (this.#options.signal.aborted) return;
    if (delayMs > 0) {
      const at = Date.now() + delayMs;
      const existing = this.#timers.get(key);
      if (existing && existing.at <= at) return;
      if (existing) clearTimeout(existing.timer);
      const timer = setTimeout(() => {
        this.#timers.delete(key);
        this.add(key);
      }, delayMs);
      this.#timers.set(key, { at, timer });
      return;
    }
    if (this.#running.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#ready.push(key);
    this.#pump();
  }

  /** Keys waiting or running, for metrics. */
  get depth(): number {
    return this.#queued.size + this.#running.size;
  }

  /** Resolves when nothing is queued or running (timers aside); for tests. */
  idle(): Promise<void> {
    if (this.#active === 0 && this.#ready.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#active < this.#options.concurrency && this.#ready.length > 0) {
      const key = this.#ready.shift()!;
      this.#queued.delete(key);
      this.#running.add(key);
      this.#active++;
      this.#run(key);
    }
    if (this.#active === 0 && this.#ready.length === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #run(key: string): Promise<void> {
    try {
      const result = await this.#process(key);
      this.#failures.delete(key);
      if (result.requeueAfterMs !== undefined) this.add(key, result.requeueAfterMs);
    } catch (error) {
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      const base = this.#options.baseBackoffMs ?? 500;
      const retryInMs = Math.min(base * 2 ** (failures - 1), this.#options.maxBackoffMs ?? 60_000);
      this.#options.onError?.(key, error, retryInMs);
      this.add(key, retryInMs);
    } finally {
      this.#running.delete(key);
      this.#active--;
      if (this.#dirty.delete(key)) this.add(key);
      this.#pump();
    }
  }
}
