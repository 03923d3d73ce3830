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
  /** Closes the connection. */
  close(): void;
}

/** Deadline of connecting and of each command. */
const timeoutMs = 1500;

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
    close: () => client.disconnect(),
  };
}
