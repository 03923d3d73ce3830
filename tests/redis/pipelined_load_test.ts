/** The pipelined load's loss check, against a real redis-server on loopback. */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { PipelinedLoad } from "../chaos/pipelined_load.ts";
import { startRedisServer } from "./redis_server.ts";

Deno.test("PipelinedLoad finds no loss on an intact master, and finds keys that went back or vanished", async () => {
  for (const damage of ["none", "flush", "rewind"] as const) {
    const server = await startRedisServer();
    const admin = new Redis({ host: "127.0.0.1", port: server.port });
    try {
      const load = new PipelinedLoad("127.0.0.1", server.port, 2, 100);
      await new Promise((r) => setTimeout(r, 300));
      await load.stop();
      // What a failover that lost acknowledged writes would leave.
      if (damage === "flush") await admin.flushall();
      if (damage === "rewind") await admin.set("p:0:1", "0");
      const report = await load.check("127.0.0.1");
      assert.ok(report.acknowledged > 1000, `writes went through: ${report.acknowledged}`);
      if (damage === "none") assert.equal(report.lostKeys, 0);
      else if (damage === "flush") assert.equal(report.lostKeys, 200);
      else assert.equal(report.lostKeys, 1);
    } finally {
      admin.disconnect();
      await server.stop();
    }
  }
});
