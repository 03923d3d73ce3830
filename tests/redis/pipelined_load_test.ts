/** The pipelined load's loss checks, against a real redis-server on loopback. */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { PipelinedLoad, wentBack } from "../chaos/pipelined_load.ts";
import { startRedisServer } from "./redis_server.ts";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("PipelinedLoad finds no loss on an intact master, and finds keys that went back or vanished", async () => {
  // "while" damage is what a handover that lost writes leaves behind while the load goes on:
  // the keys are written again within milliseconds, so only the replaced values show it.
  const cases = [
    { damage: "none", lostKeys: 0, regressions: 0 },
    { damage: "flush at the end", lostKeys: 200, regressions: 0 },
    { damage: "rewind at the end", lostKeys: 1, regressions: 0 },
    { damage: "flush while writing", lostKeys: 0, regressions: 200 },
    { damage: "rewind while writing", lostKeys: 0, regressions: 1 },
  ] as const;
  for (const { damage, lostKeys, regressions } of cases) {
    const server = await startRedisServer();
    const admin = new Redis({ host: "127.0.0.1", port: server.port });
    try {
      const load = new PipelinedLoad("127.0.0.1", server.port, 2, 100);
      await pause(300);
      if (damage === "flush while writing") await admin.flushall();
      if (damage === "rewind while writing") await admin.set("p:0:1", "0");
      if (damage.endsWith("while writing")) await pause(200);
      await load.stop();
      if (damage === "flush at the end") await admin.flushall();
      if (damage === "rewind at the end") await admin.set("p:0:1", "0");
      const report = await load.check("127.0.0.1");
      assert.ok(
        report.acknowledged > 1000,
        `${damage}: writes went through: ${report.acknowledged}`,
      );
      assert.equal(report.lostKeys, lostKeys, `${damage}: lost keys`);
      assert.equal(report.regressions, regressions, `${damage}: ${report.regressionSamples}`);
    } finally {
      admin.disconnect();
      await server.stop();
    }
  }
});

Deno.test("wentBack: a missing, unreadable or earlier value lacks the acknowledged write", () => {
  assert.equal(wentBack(null, 5), true);
  assert.equal(wentBack("abc", 5), true);
  assert.equal(wentBack("", 5), true);
  assert.equal(wentBack("4", 5), true);
  assert.equal(wentBack("5", 5), false);
  assert.equal(wentBack("6", 5), false);
});
