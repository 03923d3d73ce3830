/**
 * Leader election on a coordination.k8s.io/v1 Lease: one operator replica
 * acts, the others wait. The decisions (may I take over, must I step down) are
 * in `lease_decision.ts`; this module reads and writes the Lease and keeps the
 * timers.
 *
 * - Every write carries the resourceVersion it was computed from, so two
 *   candidates can never both win the same term.
 * - Every attempt (read and write) is bounded by `attemptTimeoutMs`.
 * - The leader steps down on its own clock, by a timer: when its last
 *   successful renewal started `renewDeadlineMs` ago, it stops, even while a
 *   renewal is still hanging on an API server that does not answer.
 * - A follower never compares the holder's renewTime with its own clock.
 *
 * @module
 */
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import { LeaseApi } from "../../generated/coordination.k8s.io@v1/mod.ts";
import { delay } from "../async/delay.ts";
import { isConflict, isNotFound, type RestClient, unlessNotFound } from "./client.ts";
import {
  buildHeldLease,
  buildReleasedLease,
  checkElectionTimings,
  decideTakeover,
  type LeaseObservation,
  leaseRecord,
  mustStepDown,
  observeLease,
} from "./lease_decision.ts";
import { timeoutSignal } from "./timeout_signal.ts";

/** Options of {@linkcode leadWhileElected}. */
export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  /** Unique per process, e.g. the pod name and a random suffix. */
  readonly identity: string;
  /** Followers may take over once the Lease has not changed for this long (their own clock). */
  readonly leaseDurationMs: number;
  /**
   * The leader stops acting when its last successful renewal started this long
   * ago (its own clock). Shorter than `leaseDurationMs`: the difference is the
   * safety margin against clock rate differences and late timers.
   */
  readonly renewDeadlineMs: number;
  /** How often the leader renews. */
  readonly renewIntervalMs: number;
  /** How often a follower looks at the Lease. */
  readonly retryIntervalMs: number;
  /** Time limit of one attempt to acquire or renew (a read and a write); default half the renew deadline. */
  readonly attemptTimeoutMs?: number;
  readonly fieldManager: string;
  readonly signal: AbortSignal;
  readonly onLeadershipChange?: (leading: boolean) => void;
  readonly onError?: (error: unknown) => void;
  /** After each renewal attempt of the leader: how long it took, and whether it renewed. */
  readonly onRenewal?: (attemptMs: number, renewed: boolean) => void;
  /** The wall clock for the Lease's renewTime and acquireTime (informational only); tests skew it. */
  readonly wallClock?: () => Date;
}

/** Leadership ended because the Lease cannot be (or was not) kept; the message says why. */
class LeadershipLost extends Error {
  override name = "LeadershipLost";
}

/**
 * Waits to become leader, then runs `lead` with a signal that aborts the
 * moment leadership is lost: the renew deadline passed on our own clock, or
 * another holder (or no Lease at all) was found. Returns `"lost"` then, or
 * `"stopped"` when `signal` aborted (the Lease is then released, so a follower
 * takes over at once). Either way `lead` has finished.
 *
 * @example
 * ```ts ignore
 * const outcome = await leadWhileElected(client, {
 *   namespace: "redis-operator", name: "redis-operator", identity: "pod-1_ab12",
 *   leaseDurationMs: 15_000, renewDeadlineMs: 10_000, renewIntervalMs: 2_000,
 *   retryIntervalMs: 2_000, fieldManager: "redis-operator", signal,
 * }, (leading) => runController(leading));
 * ```
 */
export async function leadWhileElected(
  client: RestClient,
  options: LeaderElectionOptions,
  lead: (signal: AbortSignal, stillLeading: StillLeading) => Promise<void>,
): Promise<"lost" | "stopped"> {
  const election = new Election(client, options);
  const acquired = await election.acquire();
  if (!acquired) return "stopped";
  return await election.lead(acquired, lead);
}

/**
 * Asked right before an effect: true while the last renewal started within the
 * renew deadline. When it did not, leadership ends there and then (the
 * signal aborts) instead of when the step-down timer runs: a process that was
 * frozen past its deadline (stopped, starved of CPU, a long pause) may handle
 * an I/O completion before that timer on waking, and act once on a Redis the
 * next leader already owns.
 */
export type StillLeading = () => boolean;

/** A Lease we hold: the object as last written, and when (our clock) that write was sent. */
interface Held {
  readonly lease: Lease;
  readonly renewStartMs: number;
}

class Election {
  readonly #client: RestClient;
  readonly #leases: LeaseApi;
  readonly #options: LeaderElectionOptions;
  readonly #attemptTimeoutMs: number;
  readonly #wallClock: () => Date;

  constructor(client: RestClient, options: LeaderElectionOptions) {
    this.#client = client;
    this.#leases = new LeaseApi(client);
    this.#options = options;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? Math.floor(options.renewDeadlineMs / 2);
    this.#wallClock = options.wallClock ?? (() => new Date());
    const { leaseDurationMs, renewDeadlineMs, renewIntervalMs, retryIntervalMs } = options;
    checkElectionTimings({
      leaseDurationMs,
      renewDeadlineMs,
      renewIntervalMs,
      retryIntervalMs,
      attemptTimeoutMs: this.#attemptTimeoutMs,
    });
  }

  /** Follows until the Lease is ours; undefined when stopped first. */
  async acquire(): Promise<Held | undefined> {
    const { signal, retryIntervalMs } = this.#options;
    let observed: LeaseObservation | undefined;
    while (!signal.aborted) {
      const outcome = await this.#attempt(signal, async (attempt) => {
        const current = await unlessNotFound(
          this.#leases.get(this.#options.namespace, this.#options.name, { signal: attempt }),
        );
        // Stamped when the answer arrived: the latest moment the record can be dated to.
        const seenAtMs = performance.now();
        observed = observeLease(observed, leaseRecord(current), seenAtMs);
        const { identity, leaseDurationMs } = this.#options;
        const decision = decideTakeover(observed, identity, seenAtMs, leaseDurationMs);
        if (decision.kind === "wait") return undefined;
        return await this.#write(current, attempt);
      });
      if (outcome) return outcome;
      // Jittered like client-go's, so candidates started together do not poll in lockstep.
      await delay(retryIntervalMs * (1 + 0.2 * Math.random()), signal).catch(() => {});
    }
    return undefined;
  }

  /** Runs `lead` while the Lease stays ours; see {@linkcode leadWhileElected}. */
  async lead(
    acquired: Held,
    lead: (signal: AbortSignal, stillLeading: StillLeading) => Promise<void>,
  ): Promise<"lost" | "stopped"> {
    const { signal, renewDeadlineMs, renewIntervalMs } = this.#options;
    let held = acquired;
    let outcome: "lost" | "stopped" | undefined;
    const leading = new AbortController();
    const end = (how: "lost" | "stopped", reason: Error) => {
      if (outcome) return;
      outcome = how;
      clearTimeout(stepDownTimer);
      leading.abort(reason);
      this.#options.onLeadershipChange?.(false);
    };
    // The local clock alone decides, whatever the API server does or does not answer.
    const stepDownIfOverdue = () => {
      if (!mustStepDown(held.renewStartMs, performance.now(), renewDeadlineMs)) return false;
      end(
        "lost",
        new LeadershipLost(
          `Leadership lost: the Lease was not renewed within the renew deadline of ${renewDeadlineMs} ms`,
        ),
      );
      return true;
    };
    let stepDownTimer: ReturnType<typeof setTimeout> | undefined;
    const armStepDown = () => {
      clearTimeout(stepDownTimer);
      stepDownTimer = setTimeout(
        () => stepDownIfOverdue() || armStepDown(),
        Math.max(0, held.renewStartMs + renewDeadlineMs - performance.now()),
      );
    };
    const stillLeading: StillLeading = () => !outcome && !stepDownIfOverdue();
    this.#options.onLeadershipChange?.(true);
    armStepDown();
    const stop = () => end("stopped", new Error("stopped"));
    signal.addEventListener("abort", stop, { once: true });
    if (signal.aborted) stop();
    const work = lead(leading.signal, stillLeading).catch((error) =>
      this.#options.onError?.(error)
    );
    try {
      while (!leading.signal.aborted) {
        await delay(renewIntervalMs, leading.signal).catch(() => {});
        if (leading.signal.aborted) break;
        try {
          const attemptStart = performance.now();
          const renewed = await this.#attempt(
            leading.signal,
            (attempt) => this.#renew(held, attempt),
          );
          this.#options.onRenewal?.(performance.now() - attemptStart, renewed !== undefined);
          if (renewed && !leading.signal.aborted) {
            held = renewed;
            armStepDown();
          }
        } catch (error) {
          // LeadershipLost, or a bug: either way, acting on must stop.
          end("lost", error instanceof Error ? error : new Error(String(error)));
        }
      }
    } finally {
      signal.removeEventListener("abort", stop);
      clearTimeout(stepDownTimer);
    }
    await work;
    if (outcome === "stopped") await this.#release(held.lease);
    return outcome ?? "stopped";
  }

  /**
   * Renews the Lease we hold. A conflict means someone wrote since our last
   * write: another holder (we lost), or our own earlier renewal that landed
   * after its attempt timed out (we write again from what we read).
   */
  async #renew(held: Held, signal: AbortSignal): Promise<Held | undefined> {
    const renewStartMs = performance.now();
    try {
      return await this.#update(held.lease, renewStartMs, signal);
    } catch (error) {
      if (isNotFound(error)) throw new LeadershipLost("Leadership lost: the Lease was deleted");
      if (!isConflict(error)) throw error;
    }
    const current = await unlessNotFound(
      this.#leases.get(this.#options.namespace, this.#options.name, { signal }),
    );
    const holder = current?.spec?.holderIdentity;
    if (!current || holder !== this.#options.identity) {
      throw new LeadershipLost(`Leadership lost: the Lease is held by ${holder ?? "nobody"}`);
    }
    // Dated from the first write of this attempt: earlier is the safe side.
    return await this.#update(current, renewStartMs, signal);
  }

  /** Creates or conditionally updates the Lease for us; undefined when someone else wrote first. */
  async #write(current: Lease | undefined, signal: AbortSignal): Promise<Held | undefined> {
    const renewStartMs = performance.now();
    try {
      if (current) return await this.#update(current, renewStartMs, signal);
      const body = this.#held(undefined);
      const lease = await this.#client.request<Lease>({
        method: "POST",
        path: this.#leases.path(this.#options.namespace),
        query: { fieldManager: this.#options.fieldManager },
        body,
        signal,
      });
      return { lease, renewStartMs };
    } catch (error) {
      // Another candidate created or took it between our read and our write.
      if (isConflict(error)) return undefined;
      throw error;
    }
  }

  /** A PUT carrying `current`'s resourceVersion: fails with 409 if anyone wrote since. */
  async #update(current: Lease, renewStartMs: number, signal: AbortSignal): Promise<Held> {
    const lease = await this.#client.request<Lease>({
      method: "PUT",
      path: this.#leases.path(this.#options.namespace, this.#options.name),
      query: { fieldManager: this.#options.fieldManager },
      body: this.#held(current),
      signal,
    });
    return { lease, renewStartMs };
  }

  #held(current: Lease | undefined): Lease {
    const { namespace, name, identity, leaseDurationMs } = this.#options;
    return buildHeldLease(
      current,
      { namespace, name },
      identity,
      this.#wallClock(),
      leaseDurationMs,
    );
  }

  /**
   * Runs one attempt under `attemptTimeoutMs` and `signal`. Errors other than
   * LeadershipLost are reported and turn into undefined: the loops try again.
   */
  async #attempt<T>(
    signal: AbortSignal,
    run: (signal: AbortSignal) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const limit = timeoutSignal(
      this.#attemptTimeoutMs,
      signal,
      `Lease ${this.#options.namespace}/${this.#options.name} attempt timed out after ${this.#attemptTimeoutMs} ms`,
    );
    try {
      return await run(limit.signal);
    } catch (error) {
      if (error instanceof LeadershipLost) throw error;
      if (!signal.aborted) this.#options.onError?.(limit.expired ? limit.signal.reason : error);
      return undefined;
    } finally {
      limit.clear();
    }
  }

  /** Gives the Lease up on a clean stop, so a follower takes over at once; best effort. */
  async #release(lease: Lease): Promise<void> {
    const limit = timeoutSignal(
      this.#attemptTimeoutMs,
      undefined,
      `Lease release timed out after ${this.#attemptTimeoutMs} ms`,
    );
    try {
      await this.#client.request({
        method: "PUT",
        path: this.#leases.path(this.#options.namespace, this.#options.name),
        query: { fieldManager: this.#options.fieldManager },
        // Conditional on our last write: if anyone wrote since, the Lease is not ours to release.
        body: buildReleasedLease(lease, this.#wallClock()),
        signal: limit.signal,
      });
    } catch (error) {
      if (!isConflict(error)) this.#options.onError?.(error);
    } finally {
      limit.clear();
    }
  }
}
