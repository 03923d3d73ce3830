/**
 * Benchmark: from kill -9 of the master to a write accepted by the new
 * master. Baseline: redis-sentinel (three sentinels, quorum 2,
 * `down-after-milliseconds 1000`), the writer asking a sentinel for the
 * master after each error. Ours: the operator's Redis side without
 * Kubernetes — the instance monitor's reset evidence, the replica with the
 * most data promoted (`RedisNode.promote`), the other repointed, the writer
 * told the new address (in the cluster the EndpointSlice carries it). Real
 * redis-server processes on loopback; rounds alternate.
 *
 * @module
 */
import { Redis } from "ioredis";
import { connectRedis } from "../src/redis/client.ts";
import { parseReplicationInfo } from "../src/redis/info.ts";
import { InstanceMonitor } from "../src/redis/monitor.ts";
import { freePort, until } from "../tests/redis/redis_server.ts";
import { type Sample, summarize } from "./stats.ts";

/** A redis-server (or sentinel) on a fixed loopback port, restartable. */
export class Process {
  #child: Deno.ChildProcess | undefined;
  constructor(readonly port: number, private readonly args: () => string[]) {}

  async start(): Promise<void> {
    this.#child = new Deno.Command("redis-server", {
      args: this.args(),
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitUntil(async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: this.port })).close();
        return true;
      } catch {
        return false;
      }
    });
  }

  async kill(): Promise<void> {
    try {
      this.#child?.kill("SIGKILL");
    } catch { /* gone */ }
    await this.#child?.status;
  }
}

/**
 * Sentinel failovers and resyncs take seconds: wait up to a minute. `what`
 * names the wait in the error: a full run once stopped on a bare "Timed out".
 */
export const waitUntil = (condition: () => Promise<boolean>, what = "a condition") =>
  until(condition, 60_000).catch((error) => {
    throw new Error(`waiting for ${what}: ${error instanceof Error ? error.message : error}`);
  });

/** Three data instances with production settings; the first is the master. */
export async function startInstances(dir: string): Promise<Process[]> {
  const ports = [freePort(), freePort(), freePort()];
  const instances = ports.map((port) =>
    new Process(port, () => [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--dir",
      dir,
      "--dbfilename",
      `dump-${port}.rdb`,
      "--repl-diskless-sync-delay",
      "0",
      "--replica-announce-ip",
      "127.0.0.1",
      "--repl-ping-replica-period",
      "1",
      ...(port === ports[0] ? [] : ["--replicaof", "127.0.0.1", String(ports[0])]),
    ])
  );
  for (const instance of instances) await instance.start();
  await waitUntil(async () => (await infoOf(ports[0]!)).match(/state=online/g)?.length === 2);
  return instances;
}

/** `INFO replication` of the instance on `port`, "" when it does not answer. */
export async function infoOf(port: number): Promise<string> {
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on("error", () => {});
  try {
    await client.connect();
    return await client.info("replication");
  } catch {
    return "";
  } finally {
    client.disconnect();
  }
}

/** A writer that records acknowledgements and asks `locate` where to go after an error. */
class Writer {
  readonly acks: Array<{ at: number; port: number }> = [];
  #stopped = false;
  readonly #done: Promise<void>;

  constructor(private port: number, private readonly locate: () => Promise<number | undefined>) {
    this.#done = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  async #run(): Promise<void> {
    let client: Redis | undefined;
    let seq = 0;
    while (!this.#stopped) {
      if (!client) {
        client = new Redis({
          host: "127.0.0.1",
          port: this.port,
          maxRetriesPerRequest: 0,
          enableOfflineQueue: false,
          connectTimeout: 200,
          commandTimeout: 200,
          retryStrategy: () => 20,
        });
        client.on("error", () => {});
      }
      try {
        await client.set(`bench:${++seq}`, "x");
        this.acks.push({ at: performance.now(), port: this.port });
        await new Promise((r) => setTimeout(r, 1));
      } catch {
        const next = await this.locate().catch(() => undefined);
        if (next && next !== this.port) {
          client.disconnect();
          client = undefined;
          this.port = next;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    client?.disconnect();
  }
}

/** One kill -9 round: kill the master, time the first write on another instance, restore. */
async function round(
  instances: Process[],
  writer: Writer,
  masterPort: number,
  who: string,
): Promise<{ ms: number; newMaster: number }> {
  // The writer must be writing to the instance about to be killed.
  await waitUntil(
    () => Promise.resolve(writer.acks.at(-1)?.port === masterPort),
    `the writer to write to the master ${masterPort} (it writes to ${writer.acks.at(-1)?.port})`,
  );
  await new Promise((r) => setTimeout(r, 500 + Math.random() * 500));
  const killed = instances.find((i) => i.port === masterPort)!;
  const killedAt = performance.now();
  await killed.kill();
  await waitUntil(
    () => Promise.resolve(writer.acks.some((a) => a.at > killedAt && a.port !== masterPort)),
    `a write on a new master after killing ${masterPort} (${who})`,
  );
  const first = writer.acks.find((a) => a.at > killedAt && a.port !== masterPort)!;
  return { ms: first.at - killedAt, newMaster: first.port };
}

/** Does every sentinel name `master` and see two replicas that are neither down nor disconnected? */
async function sentinelsSettled(ports: number[], master: number): Promise<boolean> {
  for (const port of ports) {
    const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true });
    client.on("error", () => {});
    try {
      await client.connect();
      const [, masterPort] = await client.call(
        "SENTINEL",
        "get-master-addr-by-name",
        "bench",
      ) as string[];
      const replicas = await client.call("SENTINEL", "replicas", "bench") as string[][];
      const healthy = replicas.filter((fields) => {
        const flags = fields[fields.indexOf("flags") + 1] ?? "";
        return !/s_down|o_down|disconnected/.test(flags);
      });
      if (Number(masterPort) !== master || healthy.length !== 2) return false;
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }
  return true;
}

/** What a sentinel says of the master and its replicas, for a failed wait's message. */
async function sentinelView(port: number): Promise<string> {
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on("error", () => {});
  try {
    await client.connect();
    const master = await client.call("SENTINEL", "get-master-addr-by-name", "bench");
    const replicas = await client.call("SENTINEL", "replicas", "bench") as string[][];
    const described = replicas.map((f) =>
      `${f[f.indexOf("port") + 1]} ${f[f.indexOf("flags") + 1]} ${f[f.indexOf("master-port") + 1]}`
    );
    return `master ${JSON.stringify(master)}, replicas ${described.join("; ")}`;
  } catch (error) {
    return String(error);
  } finally {
    client.disconnect();
  }
}

const onlineReplicas = async (port: number) =>
  (await infoOf(port)).match(/state=online/g)?.length ?? 0;

/**
 * Waits until `master` has both other instances online as replicas. Between
 * rounds only, outside what is measured: when the sentinels have not
 * reattached an instance after 20 s (seen once in a full run: the round then
 * failed after 60 s and took the whole bench with it), it is pointed at the
 * master by hand and the harness says so.
 */
async function settleAfterRound(instances: Process[], master: number): Promise<void> {
  try {
    await until(async () => await onlineReplicas(master) === 2, 20_000);
    return;
  } catch {
    // Fall through to the repair.
  }
  console.log(`  (the sentinels left a replica detached for 20 s; reattached by hand)`);
  for (const instance of instances.filter((i) => i.port !== master)) {
    if ((await infoOf(instance.port)).includes(`master_port:${master}`)) continue;
    const client = new Redis({ host: "127.0.0.1", port: instance.port, maxRetriesPerRequest: 0 });
    client.on("error", () => {});
    await client.call("REPLICAOF", "127.0.0.1", String(master)).catch(() => {});
    client.disconnect();
  }
  await waitUntil(
    async () => await onlineReplicas(master) === 2,
    `two replicas online at ${master} after reattaching by hand`,
  );
}

async function benchSentinel(rounds: number, dir: string): Promise<Sample[]> {
  const instances = await startInstances(dir);
  const sentinels = [freePort(), freePort(), freePort()].map((port) => {
    const conf = `${dir}/sentinel-${port}.conf`;
    Deno.writeTextFileSync(
      conf,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `sentinel monitor bench 127.0.0.1 ${instances[0]!.port} 2`,
        "sentinel down-after-milliseconds bench 1000",
        "sentinel failover-timeout bench 2000",
        "sentinel parallel-syncs bench 2",
        "",
      ].join("\n"),
    );
    return new Process(port, () => [conf, "--sentinel"]);
  });
  for (const sentinel of sentinels) await sentinel.start();
  const asker = new Redis({ host: "127.0.0.1", port: sentinels[0]!.port });
  const locate = async () => {
    const [, port] = await asker.call("SENTINEL", "get-master-addr-by-name", "bench") as string[];
    return Number(port);
  };
  await new Promise((r) => setTimeout(r, 2000)); // the sentinels find each other
  let master = instances[0]!.port;
  const writer = new Writer(master, locate);
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      master = await locate();
      const result = await round(instances, writer, master, "redis-sentinel");
      samples.push({ method: "baseline: redis-sentinel", value: result.ms });
      // The killed instance comes back empty; the sentinels make it a replica. The next
      // round waits until every sentinel sees two healthy replicas of the new master.
      await instances.find((p) => p.port === master)!.start();
      master = result.newMaster;
      await settleAfterRound(instances, master);
      await waitUntil(
        () => sentinelsSettled(sentinels.map((s) => s.port), master),
        `every sentinel to name ${master} with two healthy replicas`,
      ).catch(async (error) => {
        for (const s of sentinels) {
          console.log(`  sentinel ${s.port}: ${await sentinelView(s.port)}`);
        }
        throw error;
      });
    }
  } finally {
    await writer.stop();
    asker.disconnect();
    for (const process of [...sentinels, ...instances]) await process.kill();
  }
  return samples;
}

async function benchOperator(rounds: number, dir: string): Promise<Sample[]> {
  const instances = await startInstances(dir);
  let master = instances[0]!.port;
  let promoted: number | undefined;
  const writer = new Writer(master, () => Promise.resolve(promoted));
  let failing = false;
  const failover = async () => {
    if (failing) return;
    failing = true;
    try {
      await promoteBest();
    } catch (error) {
      // Said, and tried again at the next evidence: a failover that threw once must not
      // leave the round waiting a minute for a write that can never come.
      console.log(`  (our failover failed: ${error instanceof Error ? error.message : error})`);
    } finally {
      failing = false;
    }
  };
  const promoteBest = async () => {
    const replicas = instances.filter((p) => p.port !== master);
    const infos = await Promise.all(replicas.map(async (r) => ({
      port: r.port,
      info: parseReplicationInfo(await infoOf(r.port)),
    })));
    const best = infos.sort((a, b) =>
      (b.info.replicaOffset ?? 0) - (a.info.replicaOffset ?? 0)
    )[0]!;
    const node = await connectRedis({ host: "127.0.0.1", port: best.port });
    await node.promote(0);
    node.close();
    promoted = best.port;
    for (const other of infos.filter((i) => i.port !== best.port)) {
      const replica = await connectRedis({ host: "127.0.0.1", port: other.port });
      await replica.replicaOf("127.0.0.1", best.port);
      replica.close();
    }
  };
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      // The operator's monitor watches pod addresses on one port; on loopback the
      // instances differ by port, so each round watches the current master's.
      const watch = new InstanceMonitor({
        // As the operator: a reset is evidence at once, silence after the window.
        onEvidence: () => void failover(),
      });
      watch.sync(["127.0.0.1"], master, 1000);
      await waitUntil(() => Promise.resolve(watch.answering("127.0.0.1")));
      const result = await round(instances, writer, master, "ours");
      watch.close();
      samples.push({ method: "ours: monitor + promote", value: result.ms });
      const restarted = instances.find((p) => p.port === master)!;
      await restarted.start();
      const node = await connectRedis({ host: "127.0.0.1", port: restarted.port });
      await node.replicaOf("127.0.0.1", result.newMaster);
      node.close();
      master = result.newMaster;
      await waitUntil(async () => (await infoOf(master)).match(/state=online/g)?.length === 2);
    }
  } finally {
    await writer.stop();
    for (const process of instances) await process.kill();
  }
  return samples;
}

/** Runs both, one after the other, and returns every sample. */
export async function benchFailover(rounds: number): Promise<Sample[]> {
  const dir = await Deno.makeTempDir({ prefix: "redis-bench-" });
  try {
    return [...await benchSentinel(rounds, dir), ...await benchOperator(rounds, dir)];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const rounds = Number(Deno.args[0] ?? "5");
  console.log(
    summarize(
      "kill -9 of the master: first write on the new master (ms)",
      await benchFailover(rounds),
    ),
  );
}
