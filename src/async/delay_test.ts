import assert from "node:assert/strict";
import { delay } from "./delay.ts";

Deno.test("delay() resolves after the time has passed", async () => {
  const start = performance.now();
  await delay(20);
  assert.ok(performance.now() - start >= 19);
});

Deno.test("delay() rejects with the signal's reason as soon as it aborts", async () => {
  const controller = new AbortController();
  const waiting = delay(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
  await assert.rejects(delay(1, controller.signal), /stop/, "an aborted signal rejects at once");
});
