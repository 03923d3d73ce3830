/**
 * Benchmark: how long a planned handover stops writes, our fence-and-swap
 * (`RedisNode.handOver`) against the baseline `FAILOVER TO` (Redis ≥ 6.2),
 * side by side on the same three real redis-server processes on loopback,
 * under a steady write load. The two methods alternate, so both see the
 * same machine.
 *
 * @module
 */
import { Redis } from "ioredis";
import { connectRedis, type RedisNode } from "../src/redis/client.ts";
import { startRedisServer, until } from "../tests/redis/redis_server.ts";
import { type Sample, summarize } from "./stats.ts";

/** Production settings that matter for a handover: fencing and the replicas' ping period. */
const productionArgs = [
  "--min-replicas-to-write",
  "1",
  "--min-replicas-max-lag",
  "2",
  "--repl-ping-replica-period",
  "1",
];

/** A writer that follows the master it is told about and records each acknowledgement. */
class Writer {
  #target: Redis;
  #next: Redis | undefined;
  readonly acks: Array<{ at: number; port: number }> = [];
  #stopped = false;
  readonly #done: Promise<void>;

  constructor(private readonly clients: Map<number, Redis>, port: number) {
    this.#target = clients.get(port)!;
    this.#done = this.#run();
  }

  /** Where to go when the current master says it is a replica. */
  expect(port: number): void {
    this.#next = this.clients.get(port);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  async #run(): Promise<void> {
    let seq = 0;
    while (!this.#stopped) {
      try {
        await this.#target.set(`bench:${++seq}`, "x");
        this.acks.push({ at: performance.now(), port: this.#target.options.port! });
      } catch (error) {
        if (/READONLY/.test(String(error)) && this.#next) this.#target = this.#next;
        await new Promise((r) => setTimeout(r, 1));
      }
    }
  }
}

/** `FAILOVER TO`, polled until it has finished. */
async function failoverTo(client: Redis, port: number): Promise<void> {
  await client.call("FAILOVER", "TO", "127.0.0.1", String(port), "TIMEOUT", "5000");
  while (true) {
    const info = await client.info("replication");
    if (/master_failover_state:no-failover/.test(info)) {
      if (!/role:slave/.test(info)) throw new Error("FAILOVER rolled back");
      return;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

const waitUntil = (condition: () => Promise<boolean>) => until(condition, 10_000);

/** Runs `rounds` handovers of each method; returns the write pause of each, in ms. */
export async function benchHandover(rounds: number): Promise<Sample[]> {
  const servers = await Promise.all([0, 1, 2].map(() => startRedisServer(...productionArgs)));
  const ports = servers.map((s) => s.port);
  const nodes = new Map<number, RedisNode>();
  const clients = new Map<number, Redis>();
  for (const port of ports) {
    nodes.set(port, await connectRedis({ host: "127.0.0.1", port }));
    const client = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 0 });
    client.on("error", () => {});
    clients.set(port, client);
  }
  const allOnline = (master: number) => async () =>
    (await clients.get(master)!.info("replication")).match(/state=online/g)?.length === 2;
  let master = ports[0]!;
  for (const port of ports.slice(1)) await nodes.get(port)!.replicaOf("127.0.0.1", master);
  await waitUntil(allOnline(master));
  const writer = new Writer(clients, master);
  const samples: Sample[] = [];
  try {
    for (let round = 0; round < rounds * 2; round++) {
      const method = round % 2 === 0 ? "baseline: FAILOVER TO" : "ours: fence-and-swap";
      const [target, other] = ports.filter((p) => p !== master) as [number, number];
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      writer.expect(target);
      const startedAt = performance.now();
      if (round % 2 === 0) await failoverTo(clients.get(master)!, target);
      else {
        await nodes.get(master)!.handOver(nodes.get(target)!, 5000, 1);
        // Parked by the handover; the operator points it at the target once clients moved.
        await nodes.get(master)!.replicaOf("127.0.0.1", target);
      }
      await nodes.get(other)!.replicaOf("127.0.0.1", target);
      await waitUntil(() => Promise.resolve(writer.acks.at(-1)?.port === target));
      const lastOld = writer.acks.findLast((a) => a.port === master && a.at <= startedAt + 5000)!;
      const firstNew = writer.acks.find((a) => a.port === target)!;
      samples.push({ method, value: firstNew.at - Math.min(lastOld.at, startedAt) });
      master = target;
      await waitUntil(allOnline(master));
      writer.acks.length = 0;
    }
  } finally {
    await writer.stop();
    for (const client of clients.values()) client.disconnect();
    for (const node of nodes.values()) node.close();
    for (const server of servers) await server.stop();
  }
  return samples;
}

if (import.meta.main) {
  const rounds = Number(Deno.args[0] ?? "15");
  console.log(summarize("planned handover: writes stopped (ms)", await benchHandover(rounds)));
}
