/** The operator's Redis commands against real redis-server 7 processes on loopback. */
import assert from "node:assert/strict";
import { connectRedis } from "../../src/redis/client.ts";
import { parseReplicationInfo } from "../../src/redis/info.ts";
import { startRedisServer } from "./redis_server.ts";

async function until(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error("Timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("replicaOf() and promote() reconfigure real Redis instances", async () => {
  const a = await startRedisServer();
  const b = await startRedisServer();
  const nodeA = await connectRedis({ host: "127.0.0.1", port: a.port });
  const nodeB = await connectRedis({ host: "127.0.0.1", port: b.port });
  try {
    await nodeB.replicaOf("127.0.0.1", a.port);
    await until(async () =>
      parseReplicationInfo(await nodeB.infoReplication()).masterLinkUp === true
    );
    const masterInfo = parseReplicationInfo(await nodeA.infoReplication());
    assert.equal(masterInfo.connectedReplicas.length, 1);
    assert.equal(masterInfo.connectedReplicas[0]?.ip, "127.0.0.1");

    await nodeB.promote();
    const promoted = parseReplicationInfo(await nodeB.infoReplication());
    assert.equal(promoted.role, "master");
    assert.equal(promoted.replId2, masterInfo.replId, "the old history is kept as replid2");
  } finally {
    nodeA.close();
    nodeB.close();
    await a.stop();
    await b.stop();
  }
});

Deno.test("connectRedis() authenticates, and a wrong password is a clear error", async () => {
  const server = await startRedisServer("--requirepass", "s3cret");
  try {
    const good = await connectRedis({ host: "127.0.0.1", port: server.port, password: "s3cret" });
    assert.equal(parseReplicationInfo(await good.infoReplication()).role, "master");
    good.close();
    const anonymous = await connectRedis({ host: "127.0.0.1", port: server.port });
    await assert.rejects(anonymous.infoReplication(), /refused INFO replication: NOAUTH/);
    anonymous.close();
  } finally {
    await server.stop();
  }
});

Deno.test("connectRedis() fails fast when nothing listens", async () => {
  const started = Date.now();
  await assert.rejects(
    connectRedis({ host: "127.0.0.1", port: 1 }),
    /Cannot connect to Redis at 127\.0\.0\.1:1/,
  );
  assert.ok(Date.now() - started < 2000);
});
