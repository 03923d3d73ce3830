import assert from "node:assert/strict";
import { curveSvg, distributionSvg, ticks } from "./svg.ts";

Deno.test("ticks() covers the maximum with round steps", () => {
  assert.deepEqual(ticks(0), [0]);
  assert.deepEqual(ticks(9), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(ticks(1234), [0, 500, 1000, 1500]);
  assert.deepEqual(ticks(0.3), [0, 0.1, 0.2, 0.3]);
});

Deno.test("distributionSvg() draws a row per method, a dot per sample and each median", () => {
  const svg = distributionSvg("kill -9 <first write>", "ms", [
    { method: "baseline: sentinel", value: 1000 },
    { method: "baseline: sentinel", value: 1200 },
    { method: "operator", value: 100 },
  ]);
  assert.equal(svg.match(/<circle /g)?.length, 3);
  assert.equal(svg.match(/stroke="#cc0000"/g)?.length, 2, "one median mark per method");
  assert.match(svg, /kill -9 &lt;first write&gt;/);
  assert.ok(svg.trimEnd().endsWith("</svg>"));
});

Deno.test("curveSvg() draws one line per series through its points in x order", () => {
  const svg = curveSvg("operator memory", "Redis resources", "MB", [
    { name: "idle", points: [[10, 60], [1, 50], [50, 90]] },
    { name: "churn", points: [[1, 55], [10, 70]] },
  ]);
  assert.equal(svg.match(/<polyline /g)?.length, 2);
  assert.equal(svg.match(/<circle /g)?.length, 5);
  const first = svg.match(/points="([^"]+)"/)![1]!.split(" ").map((p) => Number(p.split(",")[0]));
  assert.deepEqual(first, [...first].sort((a, b) => a - b));
});
