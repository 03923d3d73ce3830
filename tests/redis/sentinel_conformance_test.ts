/**
 * The Sentinel endpoint against real redis-sentinel 7 (Debian's redis-server in
 * sentinel mode) over the same topology on loopback: a master with a password,
 * one replica. Every command a Sentinel client or tool sends gets a reply of
 * the same shape (types, lengths, map keys in order, error texts) in RESP2 and
 * RESP3, and `+switch-master` arrives in the same frame with the same format.
 */
import assert from "node:assert/strict";
import { serveSentinel } from "../../src/sentinel/server.ts";
import { reply } from "../../src/sentinel/resp.ts";
import type { SentinelEntry } from "../../src/sentinel/view.ts";
import { RawResp, shapeOf, type Wire } from "./raw_resp.ts";
import { freePort, startRedisServer, until } from "./redis_server.ts";

const password = "s3cret pass";

async function startRealSentinel(masterPort: number) {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "sentinel-test-" });
  await Deno.writeTextFile(
    `${dir}/sentinel.conf`,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `requirepass "${password}"`,
      `sentinel monitor mymaster 127.0.0.1 ${masterPort} 1`,
      `sentinel auth-pass mymaster "${password}"`,
      "sentinel down-after-milliseconds mymaster 1000",
      "",
    ].join("\n"),
  );
  const process = new Deno.Command("redis-server", {
    args: [`${dir}/sentinel.conf`, "--sentinel"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await until(() =>
    Deno.connect({ hostname: "127.0.0.1", port }).then((c) => (c.close(), true), () => false)
  );
  return {
    port,
    stop: async () => {
      process.kill("SIGKILL");
      await process.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The commands compared, in order, after authenticating. */
const commands: string[][] = [
  ["PING"],
  ["PING", "hi"],
  ["CLIENT", "SETNAME", "app"],
  ["CLIENT", "GETNAME"],
  ["CLIENT", "ID"],
  ["CLIENT", "SETNAME", "a b"],
  ["ROLE"],
  ["SENTINEL", "MASTERS"],
  ["SENTINEL", "MASTER", "mymaster"],
  ["SENTINEL", "MASTER", "nope"],
  ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"],
  ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nope"],
  ["SENTINEL", "REPLICAS", "mymaster"],
  ["SENTINEL", "SLAVES", "mymaster"],
  ["SENTINEL", "SENTINELS", "mymaster"],
  ["SENTINEL", "CKQUORUM", "mymaster"],
  ["SENTINEL", "MYID"],
  ["SENTINEL", "MASTERS", "x"],
  ["SENTINEL", "GET-MASTER-ADDR-BY-NAME"],
  ["SENTINEL", "BOGUS"],
  ["BOGUS", "a", "b"],
  ["INFO", "sentinel"],
];

Deno.test("Sentinel endpoint replies have redis-sentinel's shapes, RESP2 and RESP3", async () => {
  const master = await startRedisServer("--requirepass", password, "--masterauth", password);
  const replica = await startRedisServer(
    "--requirepass",
    password,
    "--masterauth",
    password,
    "--replicaof",
    "127.0.0.1",
    String(master.port),
  );
  const real = await startRealSentinel(master.port);
  let entry: SentinelEntry = {
    port: 6379,
    key: "ns/app",
    name: "mymaster",
    protected: true,
    master: { ip: "127.0.0.1", port: master.port, up: true },
    replicas: [{ ip: "127.0.0.1", port: replica.port, up: true, masterIp: "127.0.0.1" }],
    epoch: 0,
    downAfterMs: 1000,
  };
  const ours = serveSentinel({
    hostname: "127.0.0.1",
    port: 0,
    context: {
      entries: () => [entry],
      passwordMatches: (_, given) => Promise.resolve(given === password),
      requestFailover: () => Promise.resolve(reply.ok),
      myId: "f".repeat(40),
      startedAt: Date.now(),
    },
  });
  const connections: RawResp[] = [];
  const connect = async (port: number) => {
    const connection = await RawResp.connect("127.0.0.1", port);
    connections.push(connection);
    return connection;
  };
  try {
    // Real Sentinel has found the replica and sees the master as healthy.
    const probe = await connect(real.port);
    assert.deepEqual(await probe.call("AUTH", password), { type: "simple", value: "OK" });
    await until(async () => {
      const replicas = await probe.call("SENTINEL", "REPLICAS", "mymaster");
      return replicas.type === "array" && replicas.items.length === 1;
    }, 20_000);

    for (const protocol of [2, 3] as const) {
      const servers = { real: await connect(real.port), ours: await connect(ours.port) };
      const transcript = async (connection: RawResp) => {
        const replies: Wire[] = [];
        replies.push(await connection.call("AUTH", "default", "wrong"));
        replies.push(
          protocol === 3
            ? await connection.call("HELLO", "3", "AUTH", "default", password)
            : await connection.call("AUTH", password),
        );
        // HELLO without a version answers in the protocol in force; HELLO 2 switches back.
        replies.push(await connection.call("HELLO"));
        replies.push(await connection.call("HELLO", String(protocol)));
        for (const command of commands) replies.push(await connection.call(...command));
        return replies;
      };
      const theirs = await transcript(servers.real);
      const mine = await transcript(servers.ours);
      const labels = [
        "AUTH wrong",
        protocol === 3 ? "HELLO 3 AUTH" : "AUTH",
        "HELLO",
        `HELLO ${protocol}`,
        ...commands.map((c) => c.join(" ")),
      ];
      labels.forEach((label, i) =>
        assert.deepEqual(shapeOf(mine[i]!), shapeOf(theirs[i]!), `RESP${protocol} ${label}`)
      );
      // Values clients read, beyond the shape.
      const info = (w: Wire) => "value" in w ? String(w.value) : "";
      assert.match(
        info(mine.at(-1)!),
        /master0:name=mymaster,status=ok,address=127\.0\.0\.1:\d+,slaves=1,sentinels=1/,
      );
      assert.match(
        info(theirs.at(-1)!),
        /master0:name=mymaster,status=ok,address=127\.0\.0\.1:\d+,slaves=1,sentinels=1/,
      );
    }

    // +switch-master: the same subscription replies and the same message frame.
    for (const protocol of [2, 3] as const) {
      const subscribers = { real: await connect(real.port), ours: await connect(ours.port) };
      const subscribed: Record<string, Wire[]> = {};
      for (const [name, connection] of Object.entries(subscribers)) {
        await (protocol === 3
          ? connection.call("HELLO", "3", "AUTH", "default", password)
          : connection.call("AUTH", password));
        subscribed[name] = [await connection.call("SUBSCRIBE", "+switch-master")];
        await connection.send("PSUBSCRIBE", "*switch*");
        subscribed[name].push(await connection.read());
      }
      assert.deepEqual(subscribed.ours!.map(shapeOf), subscribed.real!.map(shapeOf));
      const before = entry.master!;
      // Real Sentinel refuses (NOGOODSLAVE) until it has seen the replica's link up.
      let accepted: Wire | undefined;
      await until(async () => {
        const answer = await probe.call("SENTINEL", "FAILOVER", "mymaster");
        if (answer.type === "simple" && answer.value === "OK") accepted = answer;
        return accepted !== undefined;
      }, 30_000);
      const asked = await connect(ours.port);
      await asked.call("AUTH", password);
      assert.deepEqual(
        shapeOf(await asked.call("SENTINEL", "FAILOVER", "mymaster")),
        shapeOf(accepted!),
        "SENTINEL FAILOVER",
      );
      const realMessages = await readUntilSwitch(subscribers.real);
      entry = {
        ...entry,
        master: { ...entry.replicas[0]!, up: true },
        replicas: [{ ...before, masterIp: "127.0.0.1" }],
      };
      await ours.publish(
        "+switch-master",
        `mymaster 127.0.0.1 ${before.port} 127.0.0.1 ${entry.master!.port}`,
        entry,
      );
      const ourMessages = [await subscribers.ours.read(), await subscribers.ours.read()];
      assert.deepEqual(ourMessages.map(shapeOf), realMessages.map(shapeOf));
      for (const messages of [realMessages, ourMessages]) {
        const payload = messages[0]!.type === "push" || messages[0]!.type === "array"
          ? messages[0]!.items.at(-1)!
          : undefined;
        assert.match(
          String(payload && "value" in payload ? payload.value : ""),
          /^mymaster 127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+$/,
        );
      }
      // Wait until real Sentinel has settled on the new master before the next round.
      await until(async () => {
        const addr = await probe.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster");
        const replicas = await probe.call("SENTINEL", "REPLICAS", "mymaster");
        return addr.type === "array" && "value" in addr.items[1]! &&
          String(addr.items[1].value) === String(entry.master!.port) &&
          replicas.type === "array" && replicas.items.length === 1;
      }, 30_000);
    }
  } finally {
    for (const connection of connections) connection.close();
    await ours.close();
    await real.stop();
    await replica.stop();
    await master.stop();
  }
});

/** Reads pushed frames until `+switch-master` has come as a message and as a pmessage. */
async function readUntilSwitch(connection: RawResp): Promise<Wire[]> {
  const frames: Wire[] = [];
  while (frames.length < 2) {
    const frame = await connection.read(60_000);
    if (frame.type !== "push" && frame.type !== "array") continue;
    const channelAt =
      frame.items[0] && "value" in frame.items[0] && frame.items[0].value === "pmessage" ? 2 : 1;
    const channel = frame.items[channelAt];
    if (channel && "value" in channel && channel.value === "+switch-master") frames.push(frame);
  }
  return frames;
}
