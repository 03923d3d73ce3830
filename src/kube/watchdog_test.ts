import assert from "node:assert/strict";
import { delay } from "../async/delay.ts";
import { Watchdog } from "./watchdog.ts";

Deno.test("Watchdog calls onIdle once when nothing kicks it for the idle time", async () => {
  let bites = 0;
  const dog = new Watchdog(50, () => bites++);
  await delay(200);
  dog.stop();
  assert.equal(bites, 1);
});

Deno.test("Watchdog stays quiet while kicked, and after stop()", async () => {
  let bites = 0;
  const dog = new Watchdog(80, () => bites++);
  for (let i = 0; i < 8; i++) {
    await delay(25);
    dog.kick();
  }
  assert.equal(bites, 0, "kicked every 25 ms for 200 ms: never idle for 80 ms");
  dog.stop();
  await delay(150);
  assert.equal(bites, 0, "stopped");
});
