import assert from "node:assert/strict";
import { holdReads, readHoldsLeft } from "./read_holds.ts";

Deno.test("readHoldsLeft() gives the time left of running holds and forgets ended ones", () => {
  holdReads("ns/a", "redis-a-0", 8_000, 2_000);
  holdReads("ns/a", "redis-a-1", 8_000, 4_000);
  holdReads("ns/b", "redis-b-0", 8_000, 2_000);
  assert.deepEqual(
    readHoldsLeft("ns/a", 9_000),
    new Map([["redis-a-0", 1000], ["redis-a-1", 3000]]),
  );
  assert.deepEqual(readHoldsLeft("ns/a", 10_000), new Map([["redis-a-1", 2000]]));
  assert.deepEqual(readHoldsLeft("ns/a", 12_000), new Map());
  assert.deepEqual(readHoldsLeft("ns/c", 0), new Map(), "a Redis without holds");
  assert.deepEqual(readHoldsLeft("ns/b", 9_999.5), new Map([["redis-b-0", 1]]));
});

Deno.test("holdReads() drops the ended holds of other Redis resources", () => {
  holdReads("ns/gone", "redis-gone-0", 1_000, 2_000);
  holdReads("ns/other", "redis-other-0", 5_000, 2_000);
  assert.deepEqual(readHoldsLeft("ns/gone", 0), new Map(), "pruned when the other hold began");
});
