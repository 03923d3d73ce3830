/**
 * The Sentinel endpoint's server under bad clients, over real TCP on loopback:
 * malformed and oversized frames, a flood of connections, thousands of idle
 * ones, a subscriber that never reads. Each costs a bounded amount and the
 * server keeps answering everyone else.
 */
import assert from "node:assert/strict";
import { reply } from "../../src/sentinel/resp.ts";
import { defaultServerLimits, serveSentinel } from "../../src/sentinel/server.ts";
import type { SentinelEntry } from "../../src/sentinel/view.ts";
import { RawResp } from "./raw_resp.ts";
import { until } from "./redis_server.ts";

const entry: SentinelEntry = {
  port: 6379,
  key: "ns/app",
  name: "ns/app",
  protected: false,
  master: { ip: "127.0.0.1", port: 6379, up: true },
  replicas: [],
  epoch: 1,
  downAfterMs: 2000,
};

function start(limits = defaultServerLimits) {
  return serveSentinel({
    hostname: "127.0.0.1",
    port: 0,
    limits,
    context: {
      entries: () => [entry, { ...entry, key: "ns/locked", name: "locked", protected: true }],
      passwordMatches: (_, password) => Promise.resolve(password === "pw"),
      requestFailover: () => Promise.resolve(reply.ok),
      myId: "0".repeat(40),
      startedAt: Date.now(),
    },
  });
}

/** Reads until the server closes the connection; what it said last. */
async function closedAfter(connection: RawResp) {
  const said = await connection.read().catch((error) => String(error));
  const after = await connection.read(2000).catch((error) => String(error));
  return { said, after };
}

Deno.test("malformed and oversized frames get redis-server's error, then the door", async () => {
  const server = start({ ...defaultServerLimits, maxQueryBytes: 32 * 1024 });
  const encoder = new TextEncoder();
  try {
    const cases: Array<[string, Uint8Array]> = [
      ["unauthenticated bulk length", encoder.encode("*1\r\n$100000000\r\n")],
      ["expected '$', got '+'", encoder.encode("*1\r\n+PING\r\n")],
      ["invalid multibulk length", encoder.encode("*-x\r\n")],
      // Before AUTH the query buffer is 20 KB: less than the longest inline line.
      ["query buffer too big", encoder.encode("a".repeat(70_000))],
    ];
    for (const [message, bytes] of cases) {
      const connection = await RawResp.connect("127.0.0.1", server.port);
      await connection.writeRaw(bytes);
      const { said, after } = await closedAfter(connection);
      assert.deepEqual(said, { type: "error", value: `ERR Protocol error: ${message}` });
      assert.equal(after, "Error: connection closed");
      connection.close();
    }
    // Authenticated clients may send bigger arguments, but never more than the query buffer.
    const big = await RawResp.connect("127.0.0.1", server.port);
    assert.deepEqual(await big.call("AUTH", "pw"), { type: "simple", value: "OK" });
    await big.writeRaw(encoder.encode(`*2\r\n$4\r\nPING\r\n$60000\r\n${"x".repeat(40_000)}`));
    const { said } = await closedAfter(big);
    assert.deepEqual(said, { type: "error", value: "ERR Protocol error: query buffer too big" });
    big.close();
    // Unknown commands and wrong arity keep the connection.
    const fine = await RawResp.connect("127.0.0.1", server.port);
    assert.equal((await fine.call("NOPE")).type, "error");
    assert.equal((await fine.call("SENTINEL", "MASTERS", "x")).type, "error");
    assert.deepEqual(await fine.call("PING"), { type: "simple", value: "PONG" });
    fine.close();
  } finally {
    await server.close();
  }
});

Deno.test("connections over maxclients are turned away; thousands of idle ones cost no answers", async () => {
  const small = start({ ...defaultServerLimits, maxClients: 5 });
  const idle: RawResp[] = [];
  try {
    for (let i = 0; i < 5; i++) idle.push(await RawResp.connect("127.0.0.1", small.port));
    await until(() => Promise.resolve(small.connectedClients() === 5));
    const turnedAway = await RawResp.connect("127.0.0.1", small.port);
    assert.deepEqual(await turnedAway.read(), {
      type: "error",
      value: "ERR max number of clients reached",
    });
    turnedAway.close();
  } finally {
    for (const c of idle.splice(0)) c.close();
    await small.close();
  }
  const server = start();
  try {
    // Just under the default limit of 2000.
    for (let i = 0; i < 1990; i++) idle.push(await RawResp.connect("127.0.0.1", server.port));
    await until(() => Promise.resolve(server.connectedClients() === 1990), 20_000);
    const active = await RawResp.connect("127.0.0.1", server.port);
    assert.deepEqual(await active.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "ns/app"), {
      type: "array",
      items: [{ type: "bulk", value: "127.0.0.1" }, { type: "bulk", value: "6379" }],
    });
    active.close();
  } finally {
    for (const c of idle) c.close();
    await server.close();
  }
});

Deno.test("a subscriber that never reads is dropped; one that reads gets every message", async () => {
  const server = start({ ...defaultServerLimits, maxPendingOutputBytes: 64 * 1024 });
  const stalled = await RawResp.connect("127.0.0.1", server.port);
  const reader = await RawResp.connect("127.0.0.1", server.port);
  try {
    await stalled.call("SUBSCRIBE", "+switch-master");
    await reader.call("SUBSCRIBE", "+switch-master");
    const payload = "x".repeat(10_000);
    let received = 0;
    const reading = (async () => {
      while (received < 2000) {
        await reader.read(30_000);
        received++;
      }
    })();
    // About 20 MB, far beyond socket buffers, so the stalled client's queue fills; in
    // batches the reading client keeps up with (its queue stays under the limit).
    for (let i = 0; i < 2000; i++) {
      await server.publish("+switch-master", payload, entry);
      while (received < i - 3) await new Promise((r) => setTimeout(r, 1));
    }
    await reading;
    assert.equal(received, 2000);
    await until(() => Promise.resolve(server.connectedClients() === 1), 10_000);
  } finally {
    stalled.close();
    reader.close();
    await server.close();
  }
});

Deno.test("messages about a protected Redis reach a subscriber in the order they were published", async () => {
  const locked = { ...entry, key: "ns/locked", name: "locked", protected: true };
  let checks = 0;
  const server = serveSentinel({
    hostname: "127.0.0.1",
    port: 0,
    context: {
      entries: () => [locked],
      // The first check waits (a Secret being read), later ones answer from the cache.
      passwordMatches: async (_, password) => {
        if (checks++ === 1) await new Promise((r) => setTimeout(r, 300));
        return password === "pw";
      },
      requestFailover: () => Promise.resolve(reply.ok),
      myId: "0".repeat(40),
      startedAt: Date.now(),
    },
  });
  const subscriber = await RawResp.connect("127.0.0.1", server.port);
  try {
    await subscriber.call("AUTH", "pw");
    await subscriber.call("SUBSCRIBE", "+switch-master");
    const first = server.publish("+switch-master", "locked a 6379 b 6379", locked);
    const second = server.publish("+switch-master", "locked b 6379 c 6379", locked);
    await Promise.all([first, second]);
    const payloads = [await subscriber.read(), await subscriber.read()].map((frame) =>
      frame.type === "array" && "value" in frame.items[2]! ? frame.items[2].value : ""
    );
    assert.deepEqual(payloads, ["locked a 6379 b 6379", "locked b 6379 c 6379"]);
  } finally {
    subscriber.close();
    await server.close();
  }
});

Deno.test("a server whose view never fills still closes, with a command waiting", async () => {
  let received = 0;
  const server = serveSentinel({
    events: { onCommand: () => received++ },
    hostname: "127.0.0.1",
    port: 0,
    ready: new Promise(() => {}),
    context: {
      entries: () => [],
      passwordMatches: () => Promise.resolve(false),
      requestFailover: () => Promise.resolve(reply.ok),
      myId: "0".repeat(40),
      startedAt: Date.now(),
    },
  });
  const client = await RawResp.connect("127.0.0.1", server.port);
  await client.send("PING");
  // The command is read, and waits for the view.
  await until(() => Promise.resolve(received === 1));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    server.close().then(() => "closed"),
    new Promise((r) => timer = setTimeout(() => r("still open after 10 s"), 10_000)),
  ]);
  clearTimeout(timer);
  client.close();
  assert.equal(outcome, "closed");
});
