import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import { delay } from "../async/delay.ts";
import { KubeApiError, type KubeRequest, type RestClient } from "./client.ts";
import { type LeaderElectionOptions, leadWhileElected } from "./leader_election.ts";

const leasePath = "/apis/coordination.k8s.io/v1/namespaces/ns/leases";

/**
 * An in-memory Lease API with the API server's optimistic concurrency: a write
 * naming another resourceVersion fails with 409. Each candidate gets its own
 * client, so one can be cut off: its requests then hang until their signal
 * aborts, as fetch does against a stopped API server.
 */
class FakeLeaseServer {
  lease: Lease | undefined;
  #version = 0;
  readonly #hung = new Set<string>();
  readonly #slow = new Map<string, number>();

  /** A client for candidate `who`. */
  clientFor(who: string): RestClient {
    return {
      request: async <T>(request: KubeRequest) => {
        if (this.#hung.has(who)) return await hang(request.signal);
        const answer = this.#handle(request) as T;
        const slowMs = request.method === "PUT" ? this.#slow.get(who) : undefined;
        if (slowMs !== undefined) {
          // Written, but the answer is late: the caller may give up on a write that landed.
          this.#slow.delete(who);
          await delay(slowMs, request.signal);
        }
        return answer;
      },
      stream: () => Promise.reject(new Error("no watches here")),
    };
  }

  /** From now on, requests of `who` hang (a stopped or unreachable API server). */
  hang(who: string): void {
    this.#hung.add(who);
  }

  /** The next write of `who` is stored at once but answered `ms` later. */
  slowOnce(who: string, ms: number): void {
    this.#slow.set(who, ms);
  }

  /** Another process writing the Lease directly (a holder with its own clock). */
  write(spec: NonNullable<Lease["spec"]>): void {
    this.lease = { metadata: { name: "op", namespace: "ns", resourceVersion: this.#next() }, spec };
  }

  #next(): string {
    return String(++this.#version);
  }

  #handle(request: KubeRequest): unknown {
    const method = request.method ?? "GET";
    const body = structuredClone(request.body) as Lease | undefined;
    if (method === "POST" && request.path === leasePath) {
      if (this.lease) {
        throw new KubeApiError(method, request.path, 409, { reason: "AlreadyExists" });
      }
      return this.#store(body!);
    }
    if (request.path !== `${leasePath}/op`) throw new Error(`unexpected path ${request.path}`);
    if (method === "GET") {
      if (!this.lease) throw new KubeApiError(method, request.path, 404, { reason: "NotFound" });
      return structuredClone(this.lease);
    }
    if (!this.lease) throw new KubeApiError(method, request.path, 404, { reason: "NotFound" });
    const precondition = body?.metadata?.resourceVersion;
    if (precondition !== undefined && precondition !== this.lease.metadata?.resourceVersion) {
      throw new KubeApiError(method, request.path, 409, { reason: "Conflict" });
    }
    if (method === "PUT") return this.#store(body!);
    if (method === "PATCH") {
      // Apply and merge patches, enough for the spec fields of a Lease.
      return this.#store({ ...this.lease, spec: { ...this.lease.spec, ...body?.spec } });
    }
    throw new Error(`unexpected method ${method}`);
  }

  #store(lease: Lease): Lease {
    this.lease = { ...lease, metadata: { ...lease.metadata, resourceVersion: this.#next() } };
    return structuredClone(this.lease);
  }
}

function hang(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** Short timings, in the proportions of client-go's defaults (15 s, 10 s, 2 s). */
const timings = {
  leaseDurationMs: 1_500,
  renewDeadlineMs: 1_000,
  renewIntervalMs: 100,
  retryIntervalMs: 100,
  attemptTimeoutMs: 300,
};

/** One candidate: when it led (monotonic ms), and a way to stop it. */
function candidate(
  server: FakeLeaseServer,
  identity: string,
  extra: Partial<LeaderElectionOptions> = {},
) {
  const stop = new AbortController();
  const state = {
    identity,
    stop: () => stop.abort(),
    ledAt: undefined as number | undefined,
    steppedDownAt: undefined as number | undefined,
    errors: [] as unknown[],
    outcome: undefined as Promise<"lost" | "stopped"> | undefined,
    signal: undefined as AbortSignal | undefined,
    stillLeading: undefined as (() => boolean) | undefined,
  };
  state.outcome = leadWhileElected(server.clientFor(identity), {
    namespace: "ns",
    name: "op",
    identity,
    fieldManager: "test",
    signal: stop.signal,
    onError: (error) => state.errors.push(error),
    ...timings,
    ...extra,
  }, async (leading, stillLeading) => {
    state.signal = leading;
    state.stillLeading = stillLeading;
    state.ledAt = performance.now();
    await new Promise((resolve) => leading.addEventListener("abort", resolve, { once: true }));
    state.steppedDownAt = performance.now();
  });
  return state;
}

async function until(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await delay(10);
  }
}

Deno.test("leadWhileElected() steps down on its own clock within the renew deadline while its renewals hang", async () => {
  const server = new FakeLeaseServer();
  const a = candidate(server, "a");
  try {
    await until("a leads", () => a.ledAt !== undefined, 2_000);
    await delay(250);
    // The API server stops answering: the renewal in flight and all later ones hang.
    const hungAt = performance.now();
    server.hang("a");
    await until("a steps down", () => a.steppedDownAt !== undefined, 3_000);
    const afterMs = a.steppedDownAt! - hungAt;
    // Its last good renewal started before the hang, so the deadline ends at most renewDeadline after it.
    assert.ok(
      afterMs <= timings.renewDeadlineMs + 100,
      `stepped down ${afterMs} ms after the hang`,
    );
    assert.ok(afterMs >= timings.renewDeadlineMs - timings.renewIntervalMs - 150, "not early");
    assert.equal(await a.outcome, "lost");
  } finally {
    a.stop();
    await a.outcome;
  }
});

Deno.test("leadWhileElected(): the follower takes over from a hung leader only after the leader stepped down", async () => {
  const server = new FakeLeaseServer();
  const a = candidate(server, "a");
  await until("a leads", () => a.ledAt !== undefined, 2_000);
  const b = candidate(server, "b");
  try {
    await delay(500);
    assert.equal(b.ledAt, undefined, "no takeover while a renews");
    server.hang("a");
    await until("b leads", () => b.ledAt !== undefined, 4_000);
    assert.ok(a.steppedDownAt !== undefined, "a had stepped down when b began");
    const gapMs = b.ledAt! - a.steppedDownAt!;
    // At least lease duration - renew deadline apart, minus timer slack.
    assert.ok(gapMs >= timings.leaseDurationMs - timings.renewDeadlineMs - 100, `gap ${gapMs} ms`);
    assert.equal(await a.outcome, "lost");
    assert.equal(server.lease?.spec?.holderIdentity, "b");
    assert.equal(server.lease?.spec?.leaseTransitions, 1);
  } finally {
    a.stop();
    b.stop();
    await Promise.all([a.outcome, b.outcome]);
  }
});

Deno.test("leadWhileElected() keeps leading when a renewal it gave up on had landed", async () => {
  const server = new FakeLeaseServer();
  const a = candidate(server, "a");
  try {
    await until("a leads", () => a.ledAt !== undefined, 2_000);
    server.slowOnce("a", 1_000);
    await delay(timings.renewDeadlineMs + 500);
    assert.equal(
      a.steppedDownAt,
      undefined,
      "the next renewal saw its own write and renewed again",
    );
    assert.ok(
      a.errors.some((e) => String(e).includes("attempt timed out after 300 ms")),
      "the slow renewal was given up on",
    );
  } finally {
    a.stop();
    assert.equal(await a.outcome, "stopped");
  }
  assert.equal(server.lease?.spec?.holderIdentity, undefined, "released on stop");
});

Deno.test("leadWhileElected() takes over from a holder whose renewTime is an hour in our future, once it stops renewing", async () => {
  const server = new FakeLeaseServer();
  const ahead = new Date(Date.now() + 3_600_000).toISOString().replace("Z", "000Z");
  server.write({ holderIdentity: "ghost", renewTime: ahead, leaseDurationSeconds: 1 });
  const started = performance.now();
  const b = candidate(server, "b");
  try {
    await until("b leads", () => b.ledAt !== undefined, 3_000);
    const waitedMs = b.ledAt! - started;
    // The ghost's own lease duration (1 s) from b's first look, measured on b's clock.
    assert.ok(waitedMs >= 1_000 && waitedMs < 2_000, `took over after ${waitedMs} ms`);
  } finally {
    b.stop();
    await b.outcome;
  }
});

Deno.test("leadWhileElected() never takes over from a holder that keeps renewing with renewTime an hour in our past", async () => {
  const server = new FakeLeaseServer();
  let lastRenewal = 0;
  const renewBehind = () => {
    lastRenewal = performance.now();
    server.write({
      holderIdentity: "ghost",
      renewTime: new Date(Date.now() - 3_600_000).toISOString().replace("Z", "000Z"),
      leaseDurationSeconds: 1,
    });
  };
  renewBehind();
  const ghost = setInterval(renewBehind, 200);
  const b = candidate(server, "b");
  try {
    await delay(2_500);
    assert.equal(b.ledAt, undefined, "the ghost renews every 200 ms: its lease is alive");
    clearInterval(ghost);
    await until("b leads", () => b.ledAt !== undefined, 3_000);
    const afterMs = b.ledAt! - lastRenewal;
    assert.ok(afterMs >= 1_000, `a full lease duration after the last renewal, not ${afterMs} ms`);
  } finally {
    clearInterval(ghost);
    b.stop();
    await b.outcome;
  }
});

Deno.test("leadWhileElected() with wall clocks an hour apart: never two leaders, and a clean stop hands over at once", async () => {
  const server = new FakeLeaseServer();
  let leaders = 0;
  let mostLeaders = 0;
  const watched = (identity: string, skewMs: number) => {
    const c = candidate(server, identity, {
      wallClock: () => new Date(Date.now() + skewMs),
      onLeadershipChange: (leading) => {
        leaders += leading ? 1 : -1;
        mostLeaders = Math.max(mostLeaders, leaders);
      },
    });
    return c;
  };
  const a = watched("a", -3_600_000);
  const b = watched("b", 3_600_000);
  try {
    await until("a leader", () => a.ledAt !== undefined || b.ledAt !== undefined, 2_000);
    await delay(1_000);
    const [leader, follower] = a.ledAt !== undefined ? [a, b] : [b, a];
    assert.equal(follower.ledAt, undefined);
    const stoppedAt = performance.now();
    leader.stop();
    assert.equal(await leader.outcome, "stopped");
    await until("the other leads", () => follower.ledAt !== undefined, 2_000);
    assert.ok(
      follower.ledAt! - stoppedAt < timings.leaseDurationMs,
      "a released Lease is taken without waiting out its duration",
    );
    assert.equal(mostLeaders, 1);
  } finally {
    a.stop();
    b.stop();
    await Promise.all([a.outcome, b.outcome]);
  }
});

Deno.test("leadWhileElected(): stillLeading() ends leadership at once after the process was frozen past the renew deadline", async () => {
  const server = new FakeLeaseServer();
  const a = candidate(server, "a");
  try {
    await until("a leads", () => a.ledAt !== undefined, 2_000);
    await delay(250);
    assert.equal(a.stillLeading!(), true, "renewing normally");
    // Frozen (stopped, starved): nothing runs, not the renewals, not the step-down timer.
    const frozenUntil = performance.now() + timings.renewDeadlineMs + 200;
    while (performance.now() < frozenUntil) { /* frozen */ }
    // On waking, before any timer: the signal alone still says "leading"...
    assert.equal(a.signal!.aborted, false, "the step-down timer has not run yet");
    // ...but asked before an effect, leadership ends there and then.
    assert.equal(a.stillLeading!(), false);
    assert.equal(a.signal!.aborted, true, "the controller's signal aborts at once");
    assert.equal(await a.outcome, "lost");
  } finally {
    a.stop();
  }
});
