import assert from "node:assert/strict";
import { watchEventLoopLag } from "./event_loop_lag.ts";

Deno.test("watchEventLoopLag reports a blocked event loop, and not an idle one", async () => {
  const stalls: number[] = [];
  const stop = watchEventLoopLag((late) => stalls.push(late), 20, 300);
  try {
    // The threshold is far above a busy machine's timer jitter, and the stall far above it.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(stalls, []);
    const until = performance.now() + 800;
    while (performance.now() < until) { /* blocks the loop */ }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(stalls.length, 1);
    assert.ok(stalls[0]! >= 500, `late by ${stalls[0]} ms`);
  } finally {
    stop();
  }
});
