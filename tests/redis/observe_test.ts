import assert from "node:assert/strict";
import { Redis as IORedis } from "ioredis";
import { readInstance } from "../../src/controller/observe.ts";
import { connectRedis } from "../../src/redis/client.ts";
import { freePort, startRedisServer } from "./redis_server.ts";

const deps = { connect: connectRedis };

Deno.test("readInstance() takes a master at maxclients for a live one, not a dead one (issue 8, item 4)", async () => {
  const server = await startRedisServer("--maxclients", "1");
  const holder = new IORedis({ port: server.port, host: "127.0.0.1" });
  holder.on("error", () => {});
  try {
    await holder.ping();
    // Redis accepts the connection, answers "max number of clients reached" and closes it;
    // ioredis reports "Connection is closed", which counted as a refused connection before.
    const read = await readInstance(deps, "127.0.0.1", [{ password: "" }], server.port);
    assert.ok("error" in read, "no INFO from a full server");
    assert.equal(read.unreachable, "timeout", `${read.error} is no proof of death`);
  } finally {
    holder.disconnect();
    await server.stop();
  }
});

Deno.test("readInstance() takes a refused connection as proof, and reads INFO and fencing of a live one", async () => {
  const refused = await readInstance(deps, "127.0.0.1", [{ password: "" }], freePort());
  assert.ok("error" in refused);
  assert.equal(refused.unreachable, "refused");

  const server = await startRedisServer("--min-replicas-to-write", "1000000");
  try {
    const read = await readInstance(
      deps,
      "127.0.0.1",
      [{ password: "wrong" }, { password: "" }],
      server.port,
    );
    assert.ok("info" in read, JSON.stringify(read));
    assert.equal(read.info.role, "master");
    assert.deepEqual(read.fencing, { minReplicasToWrite: 1000000, minReplicasMaxLagSeconds: 10 });
    // The process's own uptime, which a restart in place resets (the pod's status may lag).
    assert.ok(
      read.runningSeconds !== undefined && read.runningSeconds < 60,
      `${read.runningSeconds}`,
    );
    read.node.close();
  } finally {
    await server.stop();
  }
});
