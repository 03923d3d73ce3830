/**
 * The pure part of leader election: what a candidate may conclude from a Lease
 * it observed, its own monotonic clock and nothing else. No I/O, no clock: every
 * time is passed in, in milliseconds of the caller's monotonic clock
 * (`performance.now()`), which no other process can read or skew.
 *
 * The rules follow client-go's `tools/leaderelection`:
 * - The Lease's `renewTime` is written by the holder's wall clock. Comparing
 *   it with our own wall clock would make clock skew decide who leads: a
 *   holder an hour ahead would be unbeatable, one an hour behind always
 *   "expired". So a follower only notes WHEN (on its own clock) it last saw
 *   the record change, and may take over once the record has stayed the same
 *   for a lease duration from then.
 * - A leader acts only while its last successful renewal started less than a
 *   renew deadline ago on its own clock, whether or not a renewal is still
 *   waiting for an answer.
 *
 * Why this is safe: the follower's observation of the leader's last write
 * comes after that write was sent, so the follower cannot take over before
 * (write sent + lease duration), while the leader stopped at (write sent +
 * renew deadline). The gap, lease duration minus renew deadline, absorbs clock
 * rate differences and the time the leader needs to notice.
 *
 * @module
 */
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";

/** The parts of a Lease that tell whether its holder is alive. */
export interface LeaseRecord {
  readonly holderIdentity: string | undefined;
  readonly renewTime: string | undefined;
  /** The holder's promise: followers wait this long after its last renewal they saw. */
  readonly leaseDurationSeconds: number | undefined;
  readonly resourceVersion: string | undefined;
}

/** A record as a candidate saw it, and since when (its monotonic clock) it has looked exactly so. */
export interface LeaseObservation {
  readonly record: LeaseRecord;
  readonly unchangedSinceMs: number;
}

/** What a follower should do with the record it just observed. */
export type TakeoverDecision =
  | {
    readonly kind: "acquire";
    /** `free`: nobody holds it; `ours`: the record names us; `expired`: unchanged for a lease duration. */
    readonly reason: "free" | "ours" | "expired";
  }
  | {
    readonly kind: "wait";
    readonly holder: string;
    /** How much longer (our clock) the record must stay unchanged before we may take over. */
    readonly expiresInMs: number;
  };

/** The timings of an election, in milliseconds. */
export interface ElectionTimings {
  /** Followers wait this long after the last change of the Lease they saw. */
  readonly leaseDurationMs: number;
  /** A leader stops acting when its last successful renewal started this long ago. */
  readonly renewDeadlineMs: number;
  /** How often the leader renews. */
  readonly renewIntervalMs: number;
  /** How often a follower looks at the Lease. */
  readonly retryIntervalMs: number;
  /** The time limit of one acquire or renew attempt (read and write). */
  readonly attemptTimeoutMs: number;
}

/**
 * The record of a Lease (all fields undefined when there is no Lease).
 *
 * @example
 * ```ts
 * const record = leaseRecord({ metadata: { resourceVersion: "7" }, spec: { holderIdentity: "a" } });
 * console.assert(record.holderIdentity === "a" && record.resourceVersion === "7");
 * ```
 */
export function leaseRecord(lease: Lease | undefined): LeaseRecord {
  return {
    holderIdentity: lease?.spec?.holderIdentity || undefined,
    renewTime: lease?.spec?.renewTime ?? undefined,
    leaseDurationSeconds: lease?.spec?.leaseDurationSeconds ?? undefined,
    resourceVersion: lease?.metadata?.resourceVersion ?? undefined,
  };
}

/**
 * Notes the record seen at `nowMs`. The observation time moves only when the
 * record changed (holder, renewTime or resourceVersion): a holder that keeps
 * renewing keeps moving it, one that stopped does not, whatever its clock says.
 *
 * @example
 * ```ts
 * const record = { holderIdentity: "a", renewTime: "t1", leaseDurationSeconds: 15, resourceVersion: "1" };
 * const first = observeLease(undefined, record, 1_000);
 * console.assert(observeLease(first, { ...record }, 9_000).unchangedSinceMs === 1_000);
 * ```
 */
export function observeLease(
  previous: LeaseObservation | undefined,
  record: LeaseRecord,
  nowMs: number,
): LeaseObservation {
  if (previous && sameRecord(previous.record, record)) return previous;
  return { record, unchangedSinceMs: nowMs };
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return a.holderIdentity === b.holderIdentity && a.renewTime === b.renewTime &&
    a.resourceVersion === b.resourceVersion;
}

/**
 * May `identity` take the Lease over now? Only the local observation time and
 * `nowMs` (same clock) count; the record's `renewTime` is never compared with
 * any clock. `defaultLeaseDurationMs` applies when the record names no duration.
 *
 * @example
 * ```ts
 * const seen = observeLease(undefined, {
 *   holderIdentity: "a", renewTime: "2000-01-01T00:00:00.000000Z", leaseDurationSeconds: 15, resourceVersion: "1",
 * }, 0);
 * console.assert(decideTakeover(seen, "b", 10_000, 15_000).kind === "wait");
 * console.assert(decideTakeover(seen, "b", 15_000, 15_000).kind === "acquire");
 * ```
 */
export function decideTakeover(
  observation: LeaseObservation,
  identity: string,
  nowMs: number,
  defaultLeaseDurationMs: number,
): TakeoverDecision {
  const { holderIdentity, leaseDurationSeconds } = observation.record;
  if (!holderIdentity) return { kind: "acquire", reason: "free" };
  // Identities are unique per process: a record naming us is one of our writes
  // that landed after we stopped waiting for its answer.
  if (holderIdentity === identity) return { kind: "acquire", reason: "ours" };
  const durationMs = leaseDurationSeconds && leaseDurationSeconds > 0
    ? leaseDurationSeconds * 1000
    : defaultLeaseDurationMs;
  const expiresInMs = observation.unchangedSinceMs + durationMs - nowMs;
  if (expiresInMs <= 0) return { kind: "acquire", reason: "expired" };
  return { kind: "wait", holder: holderIdentity, expiresInMs };
}

/**
 * Must a leader whose last successful renewal STARTED at `lastRenewStartMs`
 * stop acting at `nowMs`? The start, not the answer, counts: the write may
 * have landed (and been seen by followers) any time after it was sent.
 *
 * @example
 * ```ts
 * console.assert(!mustStepDown(1_000, 10_999, 10_000));
 * console.assert(mustStepDown(1_000, 11_000, 10_000));
 * ```
 */
export function mustStepDown(lastRenewStartMs: number, nowMs: number, renewDeadlineMs: number) {
  return nowMs - lastRenewStartMs >= renewDeadlineMs;
}

/**
 * Throws a RangeError unless the timings can keep one leader: the renew
 * deadline must end before a follower may take over (lease duration), an
 * attempt must fit in the renew deadline, and the leader must renew more often
 * than its deadline.
 *
 * @example
 * ```ts
 * checkElectionTimings({
 *   leaseDurationMs: 15_000, renewDeadlineMs: 10_000, renewIntervalMs: 2_000,
 *   retryIntervalMs: 2_000, attemptTimeoutMs: 5_000,
 * });
 * ```
 */
export function checkElectionTimings(timings: ElectionTimings): void {
  for (const [name, value] of Object.entries(timings)) {
    if (!(value > 0) || !Number.isFinite(value)) {
      throw new RangeError(`Leader election timing must be a positive number: ${name}=${value}`);
    }
  }
  const { leaseDurationMs, renewDeadlineMs, renewIntervalMs, attemptTimeoutMs } = timings;
  if (renewDeadlineMs >= leaseDurationMs) {
    throw new RangeError(
      `Leader election renew deadline must be shorter than the lease duration: ${renewDeadlineMs} ms >= ${leaseDurationMs} ms`,
    );
  }
  if (attemptTimeoutMs > renewDeadlineMs) {
    throw new RangeError(
      `Leader election attempt timeout must not exceed the renew deadline: ${attemptTimeoutMs} ms > ${renewDeadlineMs} ms`,
    );
  }
  if (renewIntervalMs >= renewDeadlineMs) {
    throw new RangeError(
      `Leader election renew interval must be shorter than the renew deadline: ${renewIntervalMs} ms >= ${renewDeadlineMs} ms`,
    );
  }
}

/**
 * The Lease to write to take or keep `current` for `identity`: renewTime (and,
 * on a takeover, acquireTime and the transition count) from `wallNow`, which
 * is only information for people; nobody's decision reads it. The
 * resourceVersion of `current` stays in the body: the write is conditional.
 *
 * @example
 * ```ts
 * const lease = buildHeldLease(undefined, { namespace: "ns", name: "op" }, "me", new Date(0), 15_000);
 * console.assert(lease.spec?.renewTime === "1970-01-01T00:00:00.000000Z");
 * ```
 */
export function buildHeldLease(
  current: Lease | undefined,
  where: { readonly namespace: string; readonly name: string },
  identity: string,
  wallNow: Date,
  leaseDurationMs: number,
): Lease {
  const time = microTime(wallNow);
  const previousHolder = current?.spec?.holderIdentity || undefined;
  const takingOver = previousHolder !== identity;
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    ...current,
    metadata: { ...current?.metadata, name: where.name, namespace: where.namespace },
    spec: {
      ...current?.spec,
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      renewTime: time,
      ...(takingOver
        ? {
          acquireTime: time,
          leaseTransitions: (current?.spec?.leaseTransitions ?? 0) + (previousHolder ? 1 : 0),
        }
        : {}),
    },
  };
}

/**
 * `current` given up by its holder: no holder, so a follower takes over at
 * once instead of waiting out the lease duration.
 */
export function buildReleasedLease(current: Lease, wallNow: Date): Lease {
  const { holderIdentity: _holder, ...spec } = current.spec ?? {};
  return { ...current, spec: { ...spec, renewTime: microTime(wallNow) } };
}

/** A Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(date: Date): string {
  return date.toISOString().replace("Z", "000Z");
}
