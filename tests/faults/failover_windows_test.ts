import assert from "node:assert/strict";
import {
  demotionBoundMs,
  failoverWindows,
  latestExplainedChange,
  leaseRecoveryMs,
  mixDetectionWindowMs,
} from "./failover_windows.ts";

const s = 1000;
const kill = { kind: "kill-master", at: 100 * s, healedAt: 100 * s };

Deno.test("a change soon after a kill is its failover, with a window around both", () => {
  const { windows, unexplained } = failoverWindows([{ at: 101 * s }], [kill]);
  assert.deepEqual(unexplained, []);
  assert.deepEqual(windows.map(({ from, to }) => ({ from, to })), [{
    from: 99 * s,
    to: 101 * s + demotionBoundMs,
  }]);
});

Deno.test("a change long after a kill, with an operator running, is unexplained", () => {
  const late = 100 * s + mixDetectionWindowMs + 5 * s + 1;
  assert.deepEqual(failoverWindows([{ at: late }], [kill]).unexplained, [late]);
});

Deno.test("the leader killed with the master allows the Lease's recovery too", () => {
  const step = { ...kill, kind: "kill-master+leader" };
  const late = 100 * s + mixDetectionWindowMs + leaseRecoveryMs;
  assert.deepEqual(failoverWindows([{ at: late }], [step]).unexplained, []);
  assert.deepEqual(failoverWindows([{ at: late + 1 }], [step]).unexplained, [late + 1]);
});

Deno.test("no operator replica running explains a change until one is back and leads", () => {
  // The bench's first 5-minute mix: both replicas down (one killed, one in back-off)
  // from the kill until 150 s; the master replaced 0.16 s after one led, at 157 s.
  const outages = [{ from: 95 * s, to: 150 * s }];
  const change = 157 * s;
  assert.deepEqual(failoverWindows([{ at: change }], [kill]).unexplained, [change]);
  assert.deepEqual(failoverWindows([{ at: change }], [kill], outages).unexplained, []);
  assert.equal(
    latestExplainedChange(kill, change, outages),
    150 * s + mixDetectionWindowMs + leaseRecoveryMs,
  );
});

Deno.test("an outage outside the fault and its change explains nothing", () => {
  const change = 130 * s;
  const before = [{ from: 50 * s, to: 90 * s }];
  const after = [{ from: 131 * s, to: 200 * s }];
  assert.deepEqual(failoverWindows([{ at: change }], [kill], before).unexplained, [change]);
  assert.deepEqual(failoverWindows([{ at: change }], [kill], after).unexplained, [change]);
});

Deno.test("a change after a fault that leaves the master alone stays unexplained", () => {
  const cut = { kind: "isolate-replica", at: 100 * s, healedAt: 110 * s };
  const outages = [{ from: 100 * s, to: 105 * s }];
  assert.deepEqual(failoverWindows([{ at: 106 * s }], [cut], outages).unexplained, [106 * s]);
});
