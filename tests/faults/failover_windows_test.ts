import assert from "node:assert/strict";
import {
  causedOutages,
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

Deno.test("no operator replica running, the mix's doing, explains a change until one leads", () => {
  // The bench's first 5-minute mix: the leader killed with the master while the other
  // replica waited out its restart back-off; the master replaced 0.16 s after one led.
  const step = { ...kill, kind: "kill-master+leader" };
  const outages = [{ from: 100.3 * s, to: 150 * s }];
  const change = 157 * s;
  assert.deepEqual(failoverWindows([{ at: change }], [step]).unexplained, [change]);
  assert.deepEqual(failoverWindows([{ at: change }], [step], outages).unexplained, []);
  assert.equal(
    latestExplainedChange(step, change, outages),
    150 * s + mixDetectionWindowMs + leaseRecoveryMs,
  );
});

Deno.test("an outage a leader's kill began explains a later master kill's slow failover", () => {
  const leader = { kind: "kill-leader", at: 90 * s, healedAt: 90 * s };
  const outages = [{ from: 91 * s, to: 140 * s }];
  assert.deepEqual(failoverWindows([{ at: 150 * s }], [leader, kill], outages).unexplained, []);
});

Deno.test("an outage the mix did not cause (the operator's own crash) explains nothing", () => {
  // No leader killed near its start: a crash or a hang of the operator is a bug to see.
  const outages = [{ from: 100.5 * s, to: 150 * s }];
  assert.deepEqual(causedOutages(outages, [kill]), []);
  assert.deepEqual(failoverWindows([{ at: 157 * s }], [kill], outages).unexplained, [157 * s]);
  const leaderLongBefore = { kind: "kill-leader", at: 60 * s, healedAt: 60 * s };
  assert.deepEqual(causedOutages(outages, [leaderLongBefore, kill]), []);
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
  const leader = { kind: "kill-leader", at: 99.5 * s, healedAt: 99.5 * s };
  const outages = [{ from: 100 * s, to: 105 * s }];
  assert.deepEqual(
    failoverWindows([{ at: 106 * s }], [leader, cut], outages).unexplained,
    [106 * s],
  );
});
