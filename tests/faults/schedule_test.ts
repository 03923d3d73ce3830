import assert from "node:assert/strict";
import { faultKinds, planFaults, seededRandom, takesMasterAway } from "./schedule.ts";

Deno.test("a schedule replays from its seed, and another seed gives another", () => {
  assert.deepEqual(planFaults(42, 60_000), planFaults(42, 60_000));
  assert.notDeepEqual(planFaults(42, 60_000), planFaults(43, 60_000));
});

Deno.test("a schedule's holds and pauses fit its duration", () => {
  for (let seed = 1; seed <= 50; seed++) {
    const steps = planFaults(seed, 60_000);
    const planned = steps.reduce((sum, s) => sum + s.holdMs + s.pauseMs, 0);
    assert.ok(planned <= 60_000, `seed ${seed}: ${planned} ms`);
    assert.ok(steps.length >= 5, `seed ${seed}: ${steps.length} steps`);
  }
});

Deno.test("over many seeds every kind of fault and both combinations occur, kills are not held", () => {
  const steps = Array.from({ length: 50 }, (_, seed) => planFaults(seed, 60_000)).flat();
  for (const kind of faultKinds) assert.ok(steps.some((s) => s.kind === kind), kind);
  assert.ok(steps.some((s) => s.alsoKillLeader));
  assert.ok(steps.some((s) => s.alsoStopReplica));
  for (const step of steps) {
    if (step.kind.startsWith("kill-") && !step.alsoStopReplica) assert.equal(step.holdMs, 0);
    if (step.alsoKillLeader || step.alsoStopReplica) assert.ok(takesMasterAway(step.kind));
  }
  // Holds on both sides of a 2 s detection window.
  assert.ok(steps.some((s) => s.holdMs > 0 && s.holdMs < 2000));
  assert.ok(steps.some((s) => s.holdMs > 4000));
});

Deno.test("the generator is uniform enough: no tenth of [0, 1) is starved", () => {
  const random = seededRandom(7);
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 10_000; i++) buckets[Math.floor(random() * 10)]++;
  for (const count of buckets) assert.ok(count > 900 && count < 1100, String(count));
});
