import assert from "node:assert/strict";
import type { HistoryOp } from "../chaos/history_recorder.ts";
import { allowAsyncLoss } from "./async_allowance.ts";

const ms = 1e6;
const op = (o: Partial<HistoryOp> & Pick<HistoryOp, "kind" | "invoke" | "done">): HistoryOp => ({
  client: 0,
  key: "k",
  result: "ok",
  ...o,
});

// A failover at 1000 ms with a window of [500, 1500].
const window = [{ from: 500, to: 1500 }];

Deno.test("a write in the window that nothing read afterwards is taken out, with the reads that saw it", () => {
  const history = [
    op({ kind: "write", value: "a", invoke: 0, done: 100 * ms }),
    op({ kind: "write", value: "lost", invoke: 800 * ms, done: 900 * ms }),
    op({ kind: "read", read: "lost", invoke: 950 * ms, done: 960 * ms }),
    op({ kind: "read", read: "a", invoke: 2000 * ms, done: 2010 * ms }),
  ];
  const allowed = allowAsyncLoss(history, window);
  assert.equal(allowed.unobservedWrites, 1);
  assert.equal(allowed.windowReads, 1);
  assert.deepEqual(allowed.ops.map((o) => o.value ?? o.read), ["a", "a"]);
});

Deno.test("a write in the window read after it stays, and so does everything outside the windows", () => {
  const history = [
    op({ kind: "write", value: "kept", invoke: 800 * ms, done: 900 * ms }),
    op({
      kind: "cas",
      expect: "kept",
      value: "next",
      swapped: true,
      invoke: 1600 * ms,
      done: 1700 * ms,
    }),
    op({ kind: "read", read: "next", invoke: 1800 * ms, done: 1810 * ms }),
    op({ kind: "write", value: "early", invoke: 100 * ms, done: 200 * ms }),
  ];
  const allowed = allowAsyncLoss(history, window);
  assert.equal(allowed.unobservedWrites, 0);
  assert.equal(allowed.ops.length, 4);
});

Deno.test("failed and unknown operations are never taken out; a cas that did not swap in the window is a read", () => {
  const history = [
    op({ kind: "write", value: "x", invoke: 800 * ms, done: 900 * ms, result: "unknown" }),
    op({ kind: "write", value: "y", invoke: 800 * ms, done: 900 * ms, result: "fail" }),
    op({ kind: "cas", expect: "a", value: "z", swapped: false, invoke: 900 * ms, done: 950 * ms }),
  ];
  const allowed = allowAsyncLoss(history, window);
  assert.equal(allowed.ops.length, 2);
  assert.equal(allowed.windowReads, 1);
});

Deno.test("without windows the history is untouched", () => {
  const history = [op({ kind: "read", read: "", invoke: 0, done: 1 })];
  assert.deepEqual(allowAsyncLoss(history, []).ops, history);
});

Deno.test("a write in the window that a kept swap saw stays, though the swap is in the window too", () => {
  // Seen in the first fault mix: the write was taken out as unobserved, the swap that saw
  // it stayed (its own value was read later), and the history became one no order explains.
  const history = [
    op({ kind: "write", value: "w", invoke: 800 * ms, done: 900 * ms }),
    op({ kind: "cas", expect: "w", value: "c", swapped: true, invoke: 920 * ms, done: 950 * ms }),
    op({ kind: "read", read: "c", invoke: 2000 * ms, done: 2010 * ms }),
  ];
  const allowed = allowAsyncLoss(history, window);
  assert.equal(allowed.unobservedWrites, 0);
  assert.deepEqual(allowed.ops, history);
});

Deno.test("a swap of unknown outcome whose value was read saw its expected value: that write stays", () => {
  const history = [
    op({ kind: "write", value: "w", invoke: 800 * ms, done: 900 * ms }),
    op({
      kind: "cas",
      expect: "w",
      value: "c",
      invoke: 920 * ms,
      done: 3000 * ms,
      result: "unknown",
    }),
    op({ kind: "read", read: "c", invoke: 2000 * ms, done: 2010 * ms }),
  ];
  const allowed = allowAsyncLoss(history, window);
  assert.equal(allowed.unobservedWrites, 0);
  assert.deepEqual(allowed.ops, history);
});

Deno.test("a read of no value in the window stays when the key was written before the window: no failover explains it", () => {
  const history = [
    op({ kind: "write", value: "a", invoke: 0, done: 100 * ms }),
    // An instance that lost everything answered (a restarted master): illegal, kept.
    op({ kind: "read", read: "", invoke: 1200 * ms, done: 1210 * ms }),
    // A key first written inside the window: its write may be lost, so may be a read of it.
    op({ key: "new", kind: "write", value: "b", invoke: 700 * ms, done: 800 * ms }),
    op({ key: "new", kind: "read", read: "", invoke: 1300 * ms, done: 1310 * ms }),
  ];
  const allowed = allowAsyncLoss(history, window);
  assert.deepEqual(
    allowed.ops.map((o) => `${o.key}:${o.kind}:${o.value ?? o.read}`),
    ["k:write:a", "k:read:"],
  );
  assert.equal(allowed.windowReads, 1);
  assert.equal(allowed.unobservedWrites, 1);
});

Deno.test("a compare-and-set from no key that failed after the key's only writes were taken out goes too", () => {
  // The bench's fault mix: keys change every period, and one first written inside a window
  // was first touched after it by a compare-and-set from no key, which found the key there.
  const history = [
    op({ kind: "write", value: "lost", invoke: 800 * ms, done: 900 * ms }),
    op({ kind: "cas", expect: "", value: "b", swapped: false, invoke: 1600 * ms, done: 1610 * ms }),
    op({ kind: "write", value: "c", invoke: 1700 * ms, done: 1710 * ms }),
    op({ kind: "read", read: "c", invoke: 1800 * ms, done: 1810 * ms }),
  ];
  const allowed = allowAsyncLoss(history, window);
  assert.equal(allowed.unobservedWrites, 1);
  assert.equal(allowed.windowReads, 1, "the compare-and-set counts with the reads taken out");
  assert.deepEqual(allowed.ops.map((o) => o.value ?? o.read), ["c", "c"]);
});

Deno.test("a compare-and-set from no key that failed stays when nothing was taken out, or a kept write explains it", () => {
  const failedFromNothing = op({
    kind: "cas",
    expect: "",
    value: "b",
    swapped: false,
    invoke: 1600 * ms,
    done: 1610 * ms,
  });
  // Never written at all: an instance that invents a key is a bug for the checker to see.
  assert.deepEqual(allowAsyncLoss([failedFromNothing], window).ops, [failedFromNothing]);
  // A write before the window stays, and explains it.
  const before = op({ kind: "write", value: "a", invoke: 0, done: 100 * ms });
  const lost = op({ kind: "write", value: "lost", invoke: 800 * ms, done: 900 * ms });
  assert.deepEqual(allowAsyncLoss([before, lost, failedFromNothing], window).ops, [
    before,
    failedFromNothing,
  ]);
});
