import assert from "node:assert/strict";
import { quantile, summarize } from "./stats.ts";

Deno.test("quantile() takes the nearest rank", () => {
  assert.equal(quantile([5, 1, 3], 0.5), 3);
  assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 9);
  assert.equal(quantile([4], 0.9), 4);
});

Deno.test("summarize() lists the baseline first with each median as a ratio of its median", () => {
  const text = summarize("t", [
    { method: "ours", value: 10 },
    { method: "baseline: x", value: 100 },
    { method: "ours", value: 20 },
    { method: "baseline: x", value: 200 },
  ]);
  const [, first, second] = text.split("\n");
  assert.match(first!, /^ {2}baseline: x .* ratio 1\.000$/);
  assert.match(second!, /^ {2}ours .*median 10\.0 .* ratio 0\.100$/);
});
