/**
 * The Redis commands the operator sends, over ioredis, with short deadlines:
 * an instance that does not answer in time is an observation, not a hang.
 *
 * @module
 */
import { Redis } from "ioredis";
import { hostPort } from "../kube/config.ts";

/** How to reach one instance. */
export interface RedisAddress {
  readonly host: string;
  readonly port: number;
  readonly password?: string | undefined;
}

/** A connection to one instance with the few commands the operator needs. */
export interface RedisNode {
  /** The text of `INFO replication`. */
  infoReplication(): Promise<string>;
  /** `REPLICAOF host port`: follow that master. */
  replicaOf(host: string, port: number): Promise<void>;
  /**
   * Makes this replica a master the way Sentinel does, in one transaction:
   * `REPLICAOF NO ONE`, then disconnect normal and pub/sub clients so none
   * keeps talking to it as a replica.
   */
  promote(): Promise<void>;
  /** `redis_version` from INFO server, e.g. `7.0.15`. */
  version(): Promise<string>;
  /**
   * A planned handover to the replica at `host:port` with no acknowledged write
   * lost: `FAILOVER TO` (Redis ≥ 6.2) or, before that, pause writers, wait for
   * the target to catch up, swap roles. Resolves once this instance is a
   * replica of the target; rejects (leaving this one master) if that did not
   * happen within `timeoutMs`.
   */
  handOver(
    host: string,
    port: number,
    target: RedisNode,
    timeoutMs: number,
    options?: { legacy?: boolean },
  ): Promise<void>;
  /** Closes the connection. */
  close(): void;
}

/** Does this Redis version have the FAILOVER command (6.2 and later)? */
export function hasFailoverCommand(version: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > 6 || (major === 6 && minor >= 2);
}

/** Deadline of connecting and of each command: an instance slower than this is an observation, not a wait. */
const timeoutMs = 800;

/** Opens a connection that never retries on its own; the reconciler decides when to try again. */
export async function connectRedis(address: RedisAddress): Promise<RedisNode> {
  const client = new Redis({
    host: address.host,
    port: address.port,
    ...(address.password ? { password: address.password } : {}),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    enableReadyCheck: false,
  });
  // ioredis reports socket errors as events; the failing command reports them to us.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (cause) {
    client.disconnect();
    throw new Error(`Cannot connect to Redis at ${hostPort(address.host, address.port)}`, {
      cause,
    });
  }
  const where = hostPort(address.host, address.port);
  const wrap = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (cause) {
      throw new Error(
        `Redis at ${where} refused ${what}: ${cause instanceof Error ? cause.message : cause}`,
        { cause },
      );
    }
  };
  return {
    infoReplication: () => wrap("INFO replication", () => client.info("replication")),
    replicaOf: (host, port) =>
      wrap(`REPLICAOF ${host} ${port}`, async () => {
        await client.call("REPLICAOF", host, String(port));
      }),
    promote: () =>
      wrap("promotion", async () => {
        const results = await client.multi()
          .call("REPLICAOF", "NO", "ONE")
          .call("CLIENT", "KILL", "TYPE", "normal")
          .call("CLIENT", "KILL", "TYPE", "pubsub")
          .exec();
        const failed = results?.find(([error]: [Error | null, unknown]) => error);
        if (!results || failed) throw failed?.[0] ?? new Error("transaction aborted");
      }),
    version: () =>
      wrap(
        "INFO server",
        async () => (await client.info("server")).match(/redis_version:([\d.]+)/)?.[1] ?? "0",
      ),
    handOver: (host, port, target, timeoutMs, options = {}) =>
      wrap(`handover to ${hostPort(host, port)}`, async () => {
        const version = (await client.info("server")).match(/redis_version:([\d.]+)/)?.[1] ?? "0";
        if (hasFailoverCommand(version) && !options.legacy) {
          await failoverCommand(client, host, port, timeoutMs);
        } else {
          await fenceAndSwap(client, target, host, port, timeoutMs);
        }
      }),
    close: () => client.disconnect(),
  };
}

/**
 * `FAILOVER TO host port TIMEOUT ms`, without FORCE: the master pauses writes,
 * waits until the target has acknowledged its whole offset, then hands over.
 * Polls `master_failover_state` until it is done; if this instance is still a
 * master afterwards, the handover rolled back.
 */
async function failoverCommand(
  client: Redis,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<void> {
  await client.call("FAILOVER", "TO", host, String(port), "TIMEOUT", String(timeoutMs));
  const deadline = Date.now() + timeoutMs + 2000;
  while (true) {
    const info = await client.info("replication");
    const state = info.match(/master_failover_state:(\S+)/)?.[1] ?? "no-failover";
    if (state === "no-failover") {
      if (/role:slave/.test(info)) return;
      throw new Error("FAILOVER rolled back: the target did not catch up in time");
    }
    if (Date.now() > deadline) {
      await client.call("FAILOVER", "ABORT").catch(() => {});
      throw new Error("FAILOVER did not finish in time and was aborted");
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The handover before Redis 6.2, which has no FAILOVER: fence and read the
 * offset in one transaction (`min-replicas-to-write` set out of reach makes
 * this master refuse every write from then on), wait until the target has
 * that offset (≥, the master's own pings move it on), promote the target and
 * make this one its replica, then restore the setting. Not `CLIENT PAUSE`:
 * before 6.2 it pauses our own connection too, so `REPLICAOF` would only run
 * after the pause, behind writes the old master would then accept and lose.
 * If the target does not catch up in time, the fence is lifted and nothing else changes.
 */
async function fenceAndSwap(
  client: Redis,
  target: RedisNode,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<void> {
  const previous = String(
    (await client.call("CONFIG", "GET", "min-replicas-to-write") as string[])[1] ?? "0",
  );
  const results = await client.multi()
    .call("CONFIG", "SET", "min-replicas-to-write", "1000000")
    .info("replication")
    .exec();
  const info = String(results?.[1]?.[1] ?? "");
  const offset = Number(info.match(/master_repl_offset:(\d+)/)?.[1] ?? NaN);
  try {
    if (!Number.isFinite(offset)) throw new Error("could not read the master offset");
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const targetInfo = await target.infoReplication();
      const caughtUp = Number(targetInfo.match(/slave_repl_offset:(\d+)/)?.[1] ?? -1);
      if (caughtUp >= offset) break;
      if (Date.now() > deadline) {
        throw new Error(`the target stayed behind (${caughtUp} < ${offset})`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await target.promote();
    await client.call("REPLICAOF", host, String(port));
  } finally {
    await client.call("CONFIG", "SET", "min-replicas-to-write", previous);
  }
}
