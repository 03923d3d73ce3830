import assert from "node:assert/strict";
import {
  buildHeldLease,
  buildReleasedLease,
  checkElectionTimings,
  decideTakeover,
  type LeaseObservation,
  type LeaseRecord,
  mustStepDown,
  observeLease,
} from "./lease_decision.ts";

const hour = 3_600_000;
const leaseDurationMs = 15_000;
const renewDeadlineMs = 10_000;

/** The follower's wall clock at its monotonic time 0; skews are relative to it. */
const followerWallAtZero = Date.parse("2030-01-01T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString().replace("Z", "000Z");

/** A record written by holder `a`, whose wall clock is `skewMs` off the follower's, at follower time `atMs`. */
function writtenBy(holder: string, atMs: number, skewMs: number, rv: number): LeaseRecord {
  return {
    holderIdentity: holder,
    renewTime: iso(followerWallAtZero + atMs + skewMs),
    leaseDurationSeconds: leaseDurationMs / 1000,
    resourceVersion: String(rv),
  };
}

/**
 * Replays a follower polling every `pollMs` from 0 to `untilMs` while the
 * holder renews every 2 s until `holderStopsAtMs`; returns the first time the
 * follower may take over, or undefined.
 */
function firstTakeover(skewMs: number, holderStopsAtMs: number, untilMs: number, pollMs = 500) {
  let observed: LeaseObservation | undefined;
  let lastWrite: LeaseRecord | undefined;
  let rv = 1;
  for (let now = 0; now <= untilMs; now += pollMs) {
    // The holder's renewals up to now (every 2 s, the last at or before it stopped).
    const lastRenewalAt = Math.min(now, holderStopsAtMs) - (Math.min(now, holderStopsAtMs) % 2_000);
    if (!lastWrite || lastWrite.renewTime !== writtenBy("a", lastRenewalAt, skewMs, 0).renewTime) {
      lastWrite = writtenBy("a", lastRenewalAt, skewMs, ++rv);
    }
    observed = observeLease(observed, lastWrite, now);
    if (decideTakeover(observed, "b", now, leaseDurationMs).kind === "acquire") return now;
  }
  return undefined;
}

for (
  const [skew, skewMs] of [
    ["an hour ahead of", hour],
    ["an hour behind", -hour],
    ["in step with", 0],
    ["a day ahead of", 24 * hour],
  ] as const
) {
  Deno.test(`decideTakeover() with the holder's clock ${skew} the follower's: never while it renews`, () => {
    assert.equal(firstTakeover(skewMs, Infinity, 120_000), undefined);
  });

  Deno.test(`decideTakeover() with the holder's clock ${skew} the follower's: a lease duration after it stops`, () => {
    // The holder's last renewal is at 30 s; the follower sees it at its 30 s poll.
    assert.equal(firstTakeover(skewMs, 30_000, 120_000), 30_000 + leaseDurationMs);
  });
}

Deno.test("decideTakeover() lets a new follower wait a full lease duration from its first look, whatever renewTime says", () => {
  // Written an hour "ago" by the follower's wall clock: a wall-clock comparison would take over at once.
  const stale = writtenBy("a", 0, -hour, 1);
  const first = observeLease(undefined, stale, 5_000);
  assert.deepEqual(decideTakeover(first, "b", 5_000, leaseDurationMs), {
    kind: "wait",
    holder: "a",
    expiresInMs: leaseDurationMs,
  });
  const later = observeLease(first, { ...stale }, 19_999);
  assert.equal(decideTakeover(later, "b", 19_999, leaseDurationMs).kind, "wait");
  assert.deepEqual(decideTakeover(later, "b", 20_000, leaseDurationMs), {
    kind: "acquire",
    reason: "expired",
  });
});

Deno.test("observeLease() restarts the wait on any change of holder, renewTime or resourceVersion", () => {
  const base = writtenBy("a", 0, 0, 1);
  const first = observeLease(undefined, base, 0);
  assert.equal(observeLease(first, { ...base }, 9_000), first, "unchanged: the first time stays");
  assert.equal(
    observeLease(first, { ...base, resourceVersion: "2" }, 9_000).unchangedSinceMs,
    9_000,
  );
  assert.equal(observeLease(first, { ...base, renewTime: iso(1) }, 9_000).unchangedSinceMs, 9_000);
  assert.equal(
    observeLease(first, { ...base, holderIdentity: "c" }, 9_000).unchangedSinceMs,
    9_000,
  );
});

Deno.test("decideTakeover() acquires a free Lease and one naming us at once", () => {
  const free = observeLease(undefined, {
    holderIdentity: undefined,
    renewTime: undefined,
    leaseDurationSeconds: undefined,
    resourceVersion: "3",
  }, 0);
  assert.deepEqual(decideTakeover(free, "b", 0, leaseDurationMs), {
    kind: "acquire",
    reason: "free",
  });
  const ours = observeLease(undefined, writtenBy("b", 0, hour, 4), 0);
  assert.deepEqual(decideTakeover(ours, "b", 0, leaseDurationMs), {
    kind: "acquire",
    reason: "ours",
  });
});

Deno.test("decideTakeover() honours the holder's leaseDurationSeconds, ours when it names none", () => {
  const short = observeLease(undefined, { ...writtenBy("a", 0, 0, 1), leaseDurationSeconds: 2 }, 0);
  assert.equal(decideTakeover(short, "b", 1_999, leaseDurationMs).kind, "wait");
  assert.equal(decideTakeover(short, "b", 2_000, leaseDurationMs).kind, "acquire");
  const unnamed = observeLease(undefined, {
    ...writtenBy("a", 0, 0, 1),
    leaseDurationSeconds: undefined,
  }, 0);
  assert.equal(decideTakeover(unnamed, "b", 14_999, leaseDurationMs).kind, "wait");
  assert.equal(decideTakeover(unnamed, "b", 15_000, leaseDurationMs).kind, "acquire");
});

Deno.test("mustStepDown() stops a leader whose renewals hang at the renew deadline after the last good one started", () => {
  // The last successful renewal was sent at 100 s; every renewal since hangs.
  assert.equal(mustStepDown(100_000, 100_000 + renewDeadlineMs - 1, renewDeadlineMs), false);
  assert.equal(mustStepDown(100_000, 100_000 + renewDeadlineMs, renewDeadlineMs), true);
  assert.equal(mustStepDown(100_000, 100_000 + hour, renewDeadlineMs), true);
});

Deno.test("the leader steps down before any follower may take over, however late the follower saw the last renewal", () => {
  for (const sentMs of [0, 1_234, 50_000]) {
    const stepDownAt = sentMs + renewDeadlineMs;
    assert.ok(mustStepDown(sentMs, stepDownAt, renewDeadlineMs));
    // The follower sees the write after it was sent: any time from `sentMs` on.
    for (const seenDelayMs of [0, 1, 500, 9_000]) {
      const seen = observeLease(
        undefined,
        writtenBy("a", sentMs, hour, sentMs),
        sentMs + seenDelayMs,
      );
      assert.equal(decideTakeover(seen, "b", stepDownAt, leaseDurationMs).kind, "wait");
      const earliest = sentMs + seenDelayMs + leaseDurationMs;
      assert.equal(decideTakeover(seen, "b", earliest, leaseDurationMs).kind, "acquire");
      assert.ok(earliest - stepDownAt >= leaseDurationMs - renewDeadlineMs);
    }
  }
});

Deno.test("checkElectionTimings() refuses timings that would let two leaders overlap", () => {
  const good = {
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    renewIntervalMs: 2_000,
    retryIntervalMs: 2_000,
    attemptTimeoutMs: 5_000,
  };
  checkElectionTimings(good);
  assert.throws(
    () => checkElectionTimings({ ...good, renewDeadlineMs: 15_000 }),
    RangeError,
    "the deadline must end before followers may take over",
  );
  assert.throws(() => checkElectionTimings({ ...good, attemptTimeoutMs: 11_000 }), RangeError);
  assert.throws(() => checkElectionTimings({ ...good, renewIntervalMs: 10_000 }), RangeError);
  assert.throws(() => checkElectionTimings({ ...good, retryIntervalMs: 0 }), RangeError);
  assert.throws(() => checkElectionTimings({ ...good, leaseDurationMs: NaN }), RangeError);
});

Deno.test("buildHeldLease() keeps the resourceVersion, counts takeovers, and keeps acquireTime on renewal", () => {
  const where = { namespace: "ns", name: "op" };
  const created = buildHeldLease(undefined, where, "a", new Date(0), 15_000);
  assert.deepEqual(created.spec, {
    holderIdentity: "a",
    leaseDurationSeconds: 15,
    renewTime: "1970-01-01T00:00:00.000000Z",
    acquireTime: "1970-01-01T00:00:00.000000Z",
    leaseTransitions: 0,
  });
  const stored = { ...created, metadata: { ...created.metadata, resourceVersion: "7" } };
  const renewed = buildHeldLease(stored, where, "a", new Date(1_000), 15_000);
  assert.equal(renewed.metadata?.resourceVersion, "7", "the write is conditional");
  assert.equal(renewed.spec?.acquireTime, "1970-01-01T00:00:00.000000Z");
  assert.equal(renewed.spec?.renewTime, "1970-01-01T00:00:01.000000Z");
  const taken = buildHeldLease(stored, where, "b", new Date(2_000), 15_000);
  assert.equal(taken.spec?.holderIdentity, "b");
  assert.equal(taken.spec?.leaseTransitions, 1);
  assert.equal(taken.spec?.acquireTime, "1970-01-01T00:00:02.000000Z");
  const released = buildReleasedLease(renewed, new Date(3_000));
  assert.equal(released.spec?.holderIdentity, undefined);
  assert.equal(released.metadata?.resourceVersion, "7");
});
