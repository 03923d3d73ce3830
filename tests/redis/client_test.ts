/** The operator's Redis commands against real redis-server 7 processes on loopback. */
import assert from "node:assert/strict";
import {
  connectRedis,
  HandedOverError,
  RedisAuthError,
  type RedisNode,
} from "../../src/redis/client.ts";
import { parseReplicationInfo } from "../../src/redis/info.ts";
import { startRedisServer, until } from "./redis_server.ts";

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

    await nodeB.promote(0);
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

Deno.test("connectRedis() takes a Redis still loading its data for busy, not for refusing the password", async () => {
  // What redis-server answers while it loads its AOF or RDB at start, to every command.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const serving = (async () => {
    for await (const conn of listener) {
      (async () => {
        const buffer = new Uint8Array(4096);
        try {
          for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
            // One answer per command (a RESP array each) the client sent.
            const commands = new TextDecoder().decode(buffer.subarray(0, n)).split("\r\n")
              .filter((line) => line.startsWith("*")).length;
            await conn.write(
              new TextEncoder().encode(
                "-LOADING Redis is loading the dataset in memory\r\n".repeat(commands),
              ),
            );
          }
        } catch { /* closed */ }
      })();
    }
  })();
  try {
    const error = await connectRedis({ host: "127.0.0.1", port, password: "" }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(error instanceof Error, "no connection to a loading Redis");
    assert.ok(!(error instanceof RedisAuthError), `${error}: not an authentication failure`);
    assert.match(String(error), /LOADING/);
  } finally {
    listener.close();
    await serving.catch(() => {});
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

/** Three instances, B and C replicating from A, and a writer on A that records acknowledged writes. */
async function replicationUnderLoad() {
  const servers = await Promise.all([startRedisServer(), startRedisServer(), startRedisServer()]);
  const nodes = await Promise.all(
    servers.map((s) => connectRedis({ host: "127.0.0.1", port: s.port })),
  );
  for (const node of nodes.slice(1)) await node.replicaOf("127.0.0.1", servers[0]!.port);
  // A wait, not a timing assertion: generous, since a busy 2-core machine once took over 5 s.
  await until(async () => {
    for (const node of nodes.slice(1)) {
      if (!parseReplicationInfo(await node.infoReplication()).masterLinkUp) return false;
    }
    return true;
  }, 20_000);
  const { Redis } = await import("ioredis");
  const acked: number[] = [];
  let stop = false;
  const writer = new Redis({ port: servers[0]!.port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  writer.on("error", () => {});
  let longestPauseMs = 0;
  const writing = (async () => {
    let seq = 0;
    let last = Date.now();
    while (!stop) {
      const n = ++seq;
      try {
        await writer.set(`w:${n}`, String(n));
        acked.push(n);
        longestPauseMs = Math.max(longestPauseMs, Date.now() - last);
        last = Date.now();
      } catch { /* refused while handing over: not acknowledged */ }
    }
  })();
  await until(() => Promise.resolve(acked.length > 200));
  return {
    servers,
    nodes,
    acked,
    stats: () => ({ longestPauseMs }),
    finish: async () => {
      stop = true;
      await writing;
      writer.disconnect();
    },
    close: async () => {
      for (const node of nodes) node.close();
      for (const server of servers) await server.stop();
    },
  };
}

Deno.test("handOver() loses no acknowledged write under load and leaves both unfenced", async () => {
  const setup = await replicationUnderLoad();
  const [a, b, c] = setup.nodes as [RedisNode, RedisNode, RedisNode];
  try {
    const started = performance.now();
    await a.handOver(b, 5000, 1);
    const tookMs = performance.now() - started;
    assert.equal(parseReplicationInfo(await a.infoReplication()).role, "replica");
    assert.equal(parseReplicationInfo(await b.infoReplication()).role, "master");
    await setup.finish();
    const { Redis } = await import("ioredis");
    for (const server of setup.servers.slice(0, 2)) {
      const direct = new Redis({ port: server.port, host: "127.0.0.1" });
      const [, fence] = await direct.call("CONFIG", "GET", "min-replicas-to-write") as string[];
      direct.disconnect();
      assert.equal(fence, "1", "the spec's fencing, not the handover's fence");
    }
    // Every write A acknowledged is on B, the new master.
    await c.replicaOf("127.0.0.1", setup.servers[1]!.port);
    const check = new Redis({ port: setup.servers[1]!.port, host: "127.0.0.1" });
    const values = await check.mget(...setup.acked.map((n) => `w:${n}`));
    check.disconnect();
    const lost = setup.acked.filter((n, i) => values[i] !== String(n));
    assert.deepEqual(lost, [], `${lost.length} of ${setup.acked.length} acknowledged writes lost`);
    console.log(
      `handover under load: ${setup.acked.length} writes, done in ${tookMs.toFixed(1)} ms`,
    );
  } finally {
    await setup.close();
  }
});

Deno.test("handOver() gives up at once when the target dies while writes are fenced", async () => {
  const setup = await replicationUnderLoad();
  const [a, b] = setup.nodes as [RedisNode, RedisNode];
  try {
    // A stopped target cannot answer, so the fenced master waits for it; then it is
    // killed. The handover must end there and lift the fence, not wait out its timeout.
    setup.servers[1]!.process.kill("SIGSTOP");
    const started = Date.now();
    const handover = a.handOver(b, 10_000, 1).then(
      () => "handed over",
      (error: Error) => error.message,
    );
    await new Promise((r) => setTimeout(r, 300));
    setup.servers[1]!.process.kill("SIGKILL");
    const outcome = await handover;
    const tookMs = Date.now() - started;
    assert.match(outcome, /Connection is closed|ECONNRESET|timed out/);
    assert.ok(tookMs < 5000, `gave up after ${tookMs} ms, not at the 10 s timeout`);
    assert.equal(parseReplicationInfo(await a.infoReplication()).role, "master");
    const before = setup.acked.length;
    await until(() => Promise.resolve(setup.acked.length > before + 50));
    await setup.finish();
    console.log(`target killed during the handover: gave up after ${tookMs} ms`);
  } finally {
    await setup.close();
  }
});

Deno.test("handOver() that may no longer act sends nothing more: the old master stays fenced, whether before or after the promotion", async () => {
  const a = await startRedisServer();
  const b = await startRedisServer();
  const nodeA = await connectRedis({ host: "127.0.0.1", port: a.port });
  const nodeB = await connectRedis({ host: "127.0.0.1", port: b.port });
  const { Redis } = await import("ioredis");
  const fenceOfA = async () => {
    const direct = new Redis({ port: a.port, host: "127.0.0.1" });
    const [, fence] = await direct.call("CONFIG", "GET", "min-replicas-to-write") as string[];
    direct.disconnect();
    return fence;
  };
  try {
    await nodeB.replicaOf("127.0.0.1", a.port);
    await until(async () =>
      parseReplicationInfo(await nodeB.infoReplication()).masterLinkUp === true
    );
    // The lead is lost while the target does not answer: no unfencing on the way out.
    b.process.kill("SIGSTOP");
    const stalled = await nodeA.handOver(nodeB, 300, 1, () => false).then(
      () => "handed over",
      (error: Error) => error.message,
    );
    b.process.kill("SIGCONT");
    assert.match(stalled, /left fenced: this operator no longer leads/);
    assert.equal(parseReplicationInfo(await nodeA.infoReplication()).role, "master");
    assert.equal(await fenceOfA(), "1000000", "still fenced for the next leader");
    assert.equal(parseReplicationInfo(await nodeB.infoReplication()).role, "replica");

    // Lost after the promotion: the old master is not parked, and stays fenced.
    await nodeA.setFencing({ minReplicasToWrite: 1, minReplicasMaxLagSeconds: 10 });
    const promoted = await nodeA.handOver(nodeB, 5000, 1, () => false).then(
      () => undefined,
      (error: Error) => error,
    );
    assert.ok(promoted?.cause instanceof HandedOverError, String(promoted));
    assert.equal(parseReplicationInfo(await nodeB.infoReplication()).role, "master");
    assert.equal(parseReplicationInfo(await nodeA.infoReplication()).role, "master");
    assert.equal(await fenceOfA(), "1000000");
  } finally {
    nodeA.close();
    nodeB.close();
    await a.stop();
    await b.stop();
  }
});

Deno.test("handOver() and replicaOf() disconnect the clients of the instance they turn into a replica, as Sentinel does", async () => {
  const a = await startRedisServer();
  const b = await startRedisServer();
  const nodeA = await connectRedis({ host: "127.0.0.1", port: a.port });
  const nodeB = await connectRedis({ host: "127.0.0.1", port: b.port });
  const { Redis } = await import("ioredis");
  // An application's connection, with no reconnecting of its own so the test sees what happens.
  const application = (port: number) =>
    new Redis({ port, host: "127.0.0.1", retryStrategy: () => null, maxRetriesPerRequest: 0 });
  try {
    await nodeB.replicaOf("127.0.0.1", a.port);
    await until(async () =>
      parseReplicationInfo(await nodeB.infoReplication()).masterLinkUp === true
    );
    const onA = application(a.port);
    assert.equal(await onA.set("before", "1"), "OK");
    await nodeA.handOver(nodeB, 5000, 0);
    // Left connected, it would get READONLY on every write until it reconnected by itself.
    await assert.rejects(onA.set("after", "1"), (error: Error) => {
      assert.doesNotMatch(error.message, /READONLY/);
      return true;
    });
    onA.disconnect();

    const onB = application(b.port);
    assert.equal(await onB.set("x", "1"), "OK");
    await nodeB.replicaOf("127.0.0.1", a.port);
    await assert.rejects(onB.set("y", "1"), (error: Error) => {
      assert.doesNotMatch(error.message, /READONLY/);
      return true;
    });
    onB.disconnect();
  } finally {
    nodeA.close();
    nodeB.close();
    await a.stop();
    await b.stop();
  }
});

Deno.test("handOver() leaves the old master refusing reads until replicaOf() points it at the new one, which it follows without a full copy", async () => {
  const a = await startRedisServer();
  const b = await startRedisServer();
  const nodeA = await connectRedis({ host: "127.0.0.1", port: a.port });
  const nodeB = await connectRedis({ host: "127.0.0.1", port: b.port });
  const { Redis } = await import("ioredis");
  const direct = (port: number) =>
    new Redis({ port, host: "127.0.0.1", retryStrategy: () => null, maxRetriesPerRequest: 0 });
  let onB = direct(b.port);
  try {
    await nodeB.replicaOf("127.0.0.1", a.port);
    await until(async () =>
      parseReplicationInfo(await nodeB.infoReplication()).masterLinkUp === true
    );
    const writer = direct(a.port);
    assert.equal(await writer.set("k", "before"), "OK");
    await nodeA.handOver(nodeB, 5000, 0);
    writer.disconnect();
    onB.disconnect(); // the promotion disconnected it
    onB = direct(b.port);
    assert.equal(await onB.set("k", "after"), "OK");
    // An application that kube-proxy still sends to the old master: as a replica it would
    // answer "before" (or "after" a moment later); either way not a read to trust.
    const stillOnA = direct(a.port);
    await assert.rejects(stillOnA.get("k"), /MASTERDOWN/);
    await assert.rejects(stillOnA.set("k", "x"), /READONLY/);
    stillOnA.disconnect();
    const stats = async () =>
      Object.fromEntries(
        ((await onB.info("stats")).match(/^sync_(full|partial_ok):\d+/gm) ?? []).map((l) =>
          l.split(":")
        ),
      );
    const fullBefore = (await stats()).sync_full;

    await nodeA.replicaOf("127.0.0.1", b.port);
    await until(async () =>
      parseReplicationInfo(await nodeA.infoReplication()).masterLinkUp === true
    );
    const after = direct(a.port);
    assert.equal(await after.get("k"), "after");
    // Until the operator sees it in sync and restores the spec's value (decide/stale_reads.ts).
    assert.equal(await nodeA.servesStaleData(), false);
    await nodeA.setServeStaleData(true);
    assert.deepEqual(await after.config("GET", "replica-serve-stale-data"), [
      "replica-serve-stale-data",
      "yes",
    ]);
    after.disconnect();
    const now = await stats();
    assert.equal(now.sync_full, fullBefore, "the old master resumed from its offset");
    assert.ok(Number(now.sync_partial_ok) >= 1, "a partial resync");
  } finally {
    onB.disconnect();
    nodeA.close();
    nodeB.close();
    await a.stop();
    await b.stop();
  }
});

Deno.test("replicaOf() refuses reads until the first sync: a former master does not answer from its old data", async () => {
  const server = await startRedisServer();
  const node = await connectRedis({ host: "127.0.0.1", port: server.port });
  const { Redis } = await import("ioredis");
  const direct = () =>
    new Redis({
      port: server.port,
      host: "127.0.0.1",
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
  const writer = direct();
  try {
    assert.equal(await writer.set("k", "old history"), "OK");
    // A master that never answers: the link stays down, as in the first moments of a sync.
    await node.replicaOf("127.0.0.1", 1);
    const again = direct();
    await assert.rejects(again.get("k"), /MASTERDOWN/);
    again.disconnect();
    assert.equal(await node.servesStaleData(), false);
  } finally {
    writer.disconnect();
    node.close();
    await server.stop();
  }
});

Deno.test("connectRedis() reaches a replica that answers MASTERDOWN (replica-serve-stale-data no, no master link)", async () => {
  const server = await startRedisServer();
  const setup = await connectRedis({ host: "127.0.0.1", port: server.port });
  try {
    await setup.replicaOf("127.0.0.1", 1);
    // The operator's check of "no password" is a PING, which such a replica refuses.
    const node = await connectRedis({ host: "127.0.0.1", port: server.port, password: "" });
    const info = parseReplicationInfo(await node.infoReplication());
    node.close();
    assert.equal(info.role, "replica");
    assert.equal(info.masterLinkUp, false);
  } finally {
    setup.close();
    await server.stop();
  }
});
