import assert from "node:assert/strict";
import { enterStage, watchedPass } from "./pass_stage.ts";

Deno.test("watchedPass() says where a slow pass is waiting, and stops saying it when it ends", async () => {
  const warnings: Array<Record<string, unknown>> = [];
  const log = { warn: (_: string, fields?: Record<string, unknown>) => warnings.push(fields!) };
  const result = await watchedPass("ns/slow", log as never, async () => {
    enterStage("ns/slow", "observe the instances (waiting for 10.0.0.1)");
    await new Promise((r) => setTimeout(r, 130));
    return 7;
  }, 50);
  assert.equal(result, 7);
  assert.ok(warnings.length >= 2, JSON.stringify(warnings));
  assert.equal(warnings[0]!.stage, "observe the instances (waiting for 10.0.0.1)");
  const count = warnings.length;
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(warnings.length, count, "no warning after the pass ended");
});
