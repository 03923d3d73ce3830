/**
 * Benchmark (issue 12): acknowledged writes lost per kill -9 of the master
 * under heavy pipelined load, and what `WAIT` costs to avoid them.
 *
 * Four clients each send pipelines of 50 SETs of unique keys to the master
 * as fast as it answers; after 1–2 s the master is killed, the replica with
 * the most data is promoted (`RedisNode.promote`, as the operator chooses:
 * the highest offset), and every key acknowledged before the kill is looked
 * up on it. Baseline: a pipeline counts as acknowledged when the master
 * answers it, as every Redis client does. Stronger mode: each pipeline is
 * followed by `WAIT 1 100`, and counts only when a replica has it. Real
 * redis-server processes on loopback; rounds alternate.
 *
 * @module
 */
import { Redis } from "ioredis";
import { connectRedis } from "../src/redis/client.ts";
import { parseReplicationInfo } from "../src/redis/info.ts";
import { infoOf, type Process, startInstances, waitUntil } from "./failover_bench.ts";
import type { Sample } from "./stats.ts";

const clients = 4;
/** SETs per pipeline. */
export const batch = 50;

/** Writers of one round: every key a client was told is safe, and when. */
export class HeavyLoad {
  readonly acked: string[] = [];
  readonly ackTimes: number[] = [];
  #stopped = false;
  readonly #done: Promise<void>[];

  /** Starts the writers against `host`:`port`, with `WAIT 1` after each pipeline if `wait`. */
  constructor(host: string, port: number, round: number, wait: boolean) {
    this.#done = Array.from(
      { length: clients },
      (_, c) => this.#write(host, port, round, c, wait),
    );
  }

  async #write(host: string, port: number, round: number, c: number, wait: boolean) {
    const client = new Redis({
      host,
      port,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    client.on("error", () => {});
    let seq = 0;
    try {
      await client.connect();
      while (!this.#stopped) {
        const keys = Array.from({ length: batch }, () => `l:${round}:${c}:${++seq}`);
        const pipeline = client.pipeline();
        for (const key of keys) pipeline.set(key, "x");
        if (wait) pipeline.call("WAIT", "1", "100");
        // Once in a smoke run a pipeline in flight when the master died never settled (the
        // socket closed, ioredis neither answered nor rejected it) and the bench hung for good.
        // An unanswered pipeline was never acknowledged: it counts as the end of this client.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const results = await Promise.race([
          pipeline.exec(),
          new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), 5_000)),
        ]).finally(() => clearTimeout(timer));
        if (!results) {
          // Before the kill it would lower the acknowledged count and the rate: say so.
          console.log(`  client ${c}: a pipeline got no answer within 5 s; this client stops`);
          break;
        }
        if (results.some(([error]) => error)) break;
        if (wait && Number(results.at(-1)![1]) < 1) continue; // no replica has it: not safe
        this.acked.push(...keys);
        this.ackTimes.push(performance.now());
      }
    } catch {
      /* the master is gone: this client stops */
    } finally {
      client.disconnect();
    }
  }

  /** Stops the writers (they stop by themselves when the master goes). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#done);
  }
}

/** Role, master, link and offset from `INFO replication`. */
function summary(info: string): string {
  const { role, masterPort, masterLinkUp, replicaOffset } = parseReplicationInfo(info);
  return `role=${role} master_port=${masterPort ?? "-"} link_up=${masterLinkUp ?? "-"} offset=${
    replicaOffset ?? "-"
  }`;
}

/** How many of `keys` the instance at `host`:`port` lacks. */
export async function missing(
  host: string,
  port: number,
  keys: readonly string[],
): Promise<number> {
  const client = new Redis({ host, port });
  try {
    let count = 0;
    for (let i = 0; i < keys.length; i += 1000) {
      const values = await client.mget(...keys.slice(i, i + 1000));
      count += values.filter((v) => v === null).length;
    }
    return count;
  } finally {
    client.disconnect();
  }
}

/** One round: load, kill the master, promote the best replica, count the losses. */
async function round(
  instances: Process[],
  master: Process,
  n: number,
  wait: boolean,
): Promise<{ lost: number; acked: number; perSecond: number; newMaster: Process }> {
  const load = new HeavyLoad("127.0.0.1", master.port, n, wait);
  await new Promise((r) => setTimeout(r, 1000 + Math.random() * 1000));
  // What the replicas say just before the kill, shown with any loss.
  const before = await Promise.all(
    instances.filter((i) => i !== master).map(async (r) =>
      `${r.port}: ${summary(await infoOf(r.port))}`
    ),
  );
  const killedAt = performance.now();
  await master.kill();
  await load.stop();
  const lastSecond = load.ackTimes.filter((t) => t > killedAt - 1000 && t <= killedAt).length;
  const replicas = instances.filter((i) => i !== master);
  const offsets = await Promise.all(
    replicas.map(async (r) => parseReplicationInfo(await infoOf(r.port)).replicaOffset ?? -1),
  );
  const best = replicas[offsets.indexOf(Math.max(...offsets))]!;
  const other = replicas.find((r) => r !== best)!;
  const promoted = await connectRedis({ host: "127.0.0.1", port: best.port });
  const repointed = await connectRedis({ host: "127.0.0.1", port: other.port });
  try {
    await promoted.promote(0);
    await repointed.replicaOf("127.0.0.1", best.port);
    const lost = await missing("127.0.0.1", best.port, load.acked);
    if (lost > 0) {
      console.log(
        `  lost ${lost} after killing ${master.port}; before the kill ${
          before.join("; ")
        }; promoted ${best.port} (offsets ${offsets.join(", ")})`,
      );
    }
    // The killed instance comes back empty, as a replica of the new master.
    await master.start();
    const restarted = await connectRedis({ host: "127.0.0.1", port: master.port });
    // It loads the file a full sync left (LOADING) before it takes commands.
    await waitUntil(() =>
      restarted.replicaOf("127.0.0.1", best.port).then(() => true, () => false)
    );
    restarted.close();
    await waitUntil(async () => (await infoOf(best.port)).match(/state=online/g)?.length === 2);
    return { lost, acked: load.acked.length, perSecond: lastSecond * batch, newMaster: best };
  } finally {
    promoted.close();
    repointed.close();
  }
}

/** Losses per kill and acknowledged writes per second, for each method. */
export async function benchHeavyLoss(
  rounds: number,
): Promise<{ lost: Sample[]; perSecond: Sample[] }> {
  const dir = await Deno.makeTempDir({ prefix: "heavy-loss-" });
  const instances = await startInstances(dir);
  const lost: Sample[] = [];
  const perSecond: Sample[] = [];
  let master = instances[0]!;
  try {
    for (let n = 0; n < rounds * 2; n++) {
      const wait = n % 2 === 1;
      const method = wait ? "WAIT 1 per pipeline" : "baseline: pipelined SET";
      const result = await round(instances, master, n, wait);
      lost.push({ method, value: result.lost });
      perSecond.push({ method, value: result.perSecond });
      console.log(
        `  ${method}: ${result.lost} of ${result.acked} acknowledged writes lost, ${result.perSecond}/s before the kill`,
      );
      master = result.newMaster;
    }
  } finally {
    for (const instance of instances) await instance.kill();
    await Deno.remove(dir, { recursive: true });
  }
  return { lost, perSecond };
}
