/**
 * The Redis commands the operator sends, over ioredis, with short deadlines:
 * an instance that does not answer in time is an observation, not a hang.
 *
 * @module
 */
import { type ChainableCommander, Redis } from "ioredis";
import type { Fencing } from "../decide/fencing.ts";
import { hostPort } from "../net/host_port.ts";
import { parkingAddress } from "../decide/parking.ts";
import { describeError } from "../text/describe_error.ts";

/** How to reach one instance. */
export interface RedisAddress {
  readonly host: string;
  readonly port: number;
  readonly password?: string | undefined;
  /** The ACL user the password is for; the default user without one. */
  readonly user?: string | undefined;
  /** Connect over TLS, trusting this CA (spec.tls). */
  readonly tls?: TlsSettings | undefined;
}

/** A password and, for an ACL user, its name (the default user without one); `""` is none. */
export interface Credential {
  readonly user?: string;
  readonly password: string;
}

/** How the operator speaks TLS to an instance. */
export interface TlsSettings {
  /** PEM of the CA that signed the instances' certificates (the Secret's ca.crt). */
  readonly ca: string;
}

/**
 * Node TLS options for `settings`. The chain must lead to the CA; the name is
 * not checked: instances are reached by pod address, which certificates seldom
 * name, and Redis checks its master's certificate the same way.
 */
export function tlsOptions(settings: TlsSettings) {
  return { ca: settings.ca, checkServerIdentity: () => undefined };
}

/**
 * PING, where `MASTERDOWN` counts as an answer: a replica with
 * `replica-serve-stale-data no` and no master link (a handover's parked
 * master, or a user's setting when the master is lost) refuses PING so, after
 * the password check. Taken for a refusal, it would leave that instance
 * unobserved: never reattached, and never a failover candidate.
 */
async function pingAllowingMasterDown(client: Redis): Promise<void> {
  try {
    await client.ping();
  } catch (error) {
    if (!(error instanceof Error && /^MASTERDOWN/.test(error.message))) throw error;
  }
}

/** A connection to one instance with the few commands the operator needs. */
export interface RedisNode {
  /** The text of `INFO replication`. */
  infoReplication(): Promise<string>;
  /**
   * `REPLICAOF host port`: follow that master, disconnecting normal clients,
   * with `replica-serve-stale-data` set to `serveStaleData` (default no:
   * reads refused until it has synced, see decide/stale_reads.ts).
   */
  replicaOf(host: string, port: number, serveStaleData?: boolean): Promise<void>;
  /**
   * Makes this replica a master the way Sentinel does, in one transaction:
   * `REPLICAOF NO ONE`, fencing set to `minReplicasToWrite` (whatever an
   * interrupted handover left behind), then disconnect normal and pub/sub
   * clients so none keeps talking to it as a replica.
   */
  promote(minReplicasToWrite: number): Promise<void>;
  /**
   * A planned handover to the replica `target` with no acknowledged write
   * lost: fence this master, wait until the target has its whole offset,
   * promote the target, park this one (see {@linkcode fenceAndSwap}).
   * Resolves once this instance is a replica that refuses reads and writes,
   * for the caller to point at the target later; rejects, leaving
   * this one the master and unfenced, if the target did not catch up within
   * `timeoutMs` or stopped answering. `minReplicasToWrite` is the fencing the
   * spec asks for, restored afterwards on both. `mayAct` is asked before each
   * later step: once false, this one is left fenced (see {@linkcode fenceAndSwap}).
   */
  handOver(
    target: RedisNode,
    timeoutMs: number,
    minReplicasToWrite: number,
    mayAct?: () => boolean,
  ): Promise<void>;
  /** Accepts `password` besides the ones it has (`ACL SETUSER default >password`). */
  acceptPassword(password: string): Promise<void>;
  /**
   * Accepts `password` only (`CONFIG SET requirepass`): every other one stops
   * working; `""` accepts every client (no password).
   */
  requireOnlyPassword(password: string): Promise<void>;
  /**
   * Authenticates to its master with `password` from the next sync on
   * (`masterauth`; `""` sends no AUTH). As user `default` (`masteruser`) only
   * while a password is added or removed: that AUTH also succeeds against a
   * master with no password, which a replica must otherwise refuse (a
   * stranger reusing its master's address could be copied).
   */
  useMasterPassword(password: string, asDefaultUser?: boolean): Promise<void>;
  /** The users as `ACL LIST` gives them, one line each. */
  aclList(): Promise<string[]>;
  /** `ACL SETUSER` with `args` (the user name first). */
  setUser(args: readonly string[]): Promise<void>;
  /** `ACL DELUSER`. */
  deleteUsers(names: readonly string[]): Promise<void>;
  /**
   * Authenticates to its master as `user` from the next sync on (`masterauth`,
   * then `masteruser`; `""` is the default user).
   */
  useMasterUser(user: string, password: string): Promise<void>;
  /** Keys held over every database (`INFO keyspace`). */
  keyCount(): Promise<number>;
  /** Seconds since this process started (`INFO server` uptime_in_seconds). */
  uptimeSeconds(): Promise<number>;
  /** The live fencing settings (`CONFIG GET min-replicas-*`). */
  fencing(): Promise<Fencing>;
  /** Sets the fencing settings (`CONFIG SET`). */
  setFencing(fencing: Fencing): Promise<void>;
  /** Whether it answers reads while it has no master link (`replica-serve-stale-data`). */
  servesStaleData(): Promise<boolean>;
  /** Sets `replica-serve-stale-data`. */
  setServeStaleData(serve: boolean): Promise<void>;
  /**
   * Loads the TLS certificate, key and CA again from their files (setting
   * `tls-cert-file` to its own path does it, from Redis 6 on); new
   * connections get the renewed certificate, open ones keep theirs.
   */
  reloadTls(certFile: string): Promise<void>;
  /** Disconnects every normal client but this connection (`CLIENT KILL TYPE normal`). */
  disconnectClients(): Promise<void>;
  /** Closes the connection. */
  close(): void;
}

/** The instance refused the password (it may still run with another one). */
export class RedisAuthError extends Error {
  override name = "RedisAuthError";
}

/**
 * A handover whose target was promoted but whose old master may not be
 * parked (the last transaction failed or its reply was lost): the target is
 * the master now, whatever state the old one is in.
 */
export class HandedOverError extends Error {
  override name = "HandedOverError";
}

/** Deadline of connecting and of each command: an instance slower than this is an observation, not a wait. */
const timeoutMs = 800;

/** Opens a connection that never retries on its own; the reconciler decides when to try again. */
export async function connectRedis(address: RedisAddress): Promise<RedisNode> {
  const client = new Redis({
    host: address.host,
    port: address.port,
    ...(address.tls ? { tls: tlsOptions(address.tls) } : {}),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    enableReadyCheck: false,
  });
  // ioredis reports socket errors as events, and a failed connect() only as "Connection is
  // closed": the socket's own error (ECONNREFUSED, ECONNRESET) is kept as the cause, since
  // only a refused connection proves that nothing listens.
  let socketError: Error | undefined;
  client.on("error", (error: Error) => {
    socketError ??= error;
  });
  try {
    await client.connect();
  } catch (cause) {
    client.disconnect();
    throw new Error(`Cannot connect to Redis at ${hostPort(address.host, address.port)}`, {
      cause: socketError ?? cause,
    });
  }
  // AUTH by hand: given the password option, ioredis drops the connection on a wrong
  // password and the next command only says the stream is not writeable. No password
  // ("") is checked with a PING, so an instance that wants one is an auth error too.
  if (address.password !== undefined) {
    try {
      if (address.user) await client.call("AUTH", address.user, address.password);
      else if (address.password) await client.call("AUTH", address.password);
      else await pingAllowingMasterDown(client);
    } catch (cause) {
      client.disconnect();
      const message = cause instanceof Error ? cause.message : String(cause);
      // Only a refusal of the credentials: a Redis loading its data at start answers
      // LOADING, and a slow one times out; neither says anything of the password.
      if (!/NOAUTH|WRONGPASS|AUTH|password/i.test(message)) {
        throw new Error(
          `Redis at ${
            hostPort(address.host, address.port)
          } did not accept the connection: ${message}`,
          { cause },
        );
      }
      throw new RedisAuthError(
        `Redis at ${hostPort(address.host, address.port)} refused the password${
          address.user ? ` of user ${address.user}` : ""
        }: ${cause instanceof Error ? cause.message : cause}`,
        { cause },
      );
    }
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
    replicaOf: (host, port, serveStaleData = false) =>
      wrap(`REPLICAOF ${host} ${port}`, async () => {
        const results = await disconnectingClients(
          client.multi()
            .call("REPLICAOF", host, String(port))
            .call("CONFIG", "SET", "replica-serve-stale-data", serveStaleData ? "yes" : "no"),
        )
          .exec();
        const failed = results?.find(([error]: [Error | null, unknown]) => error);
        if (!results || failed) throw failed?.[0] ?? new Error("transaction aborted");
      }),
    promote: (minReplicasToWrite) =>
      wrap("promotion", async () => {
        const results = await disconnectingClients(
          client.multi()
            .call("REPLICAOF", "NO", "ONE")
            .call("CONFIG", "SET", "min-replicas-to-write", String(minReplicasToWrite)),
        ).exec();
        const failed = results?.find(([error]: [Error | null, unknown]) => error);
        if (!results || failed) throw failed?.[0] ?? new Error("transaction aborted");
      }),
    handOver: (target, timeoutMs, minReplicasToWrite, mayAct = () => true) =>
      wrap(
        "handover",
        () => fenceAndSwap(client, target, timeoutMs, minReplicasToWrite, mayAct),
      ),
    acceptPassword: (password) =>
      wrap("ACL SETUSER default", async () => {
        // Not "on": with spec.acl the default user may be off, and stays so.
        await client.call("ACL", "SETUSER", "default", `>${password}`);
      }),
    aclList: () => wrap("ACL LIST", async () => (await client.call("ACL", "LIST")) as string[]),
    // Only the user's name in the message: the arguments hold a password hash.
    setUser: (args) =>
      wrap(`ACL SETUSER ${args[0]}`, async () => {
        await client.call("ACL", "SETUSER", ...args);
      }),
    deleteUsers: (names) =>
      wrap(`ACL DELUSER ${names.join(" ")}`, async () => {
        await client.call("ACL", "DELUSER", ...names);
      }),
    useMasterUser: (user, password) =>
      wrap("CONFIG SET masterauth/masteruser", async () => {
        await client.call("CONFIG", "SET", "masterauth", password);
        await client.call("CONFIG", "SET", "masteruser", user);
      }),
    requireOnlyPassword: (password) =>
      wrap("CONFIG SET requirepass", async () => {
        await client.call("CONFIG", "SET", "requirepass", password);
      }),
    useMasterPassword: (password, asDefaultUser = false) =>
      wrap("CONFIG SET masteruser/masterauth", async () => {
        // One at a time (multi-parameter CONFIG SET needs 7.0), in the order that never
        // leaves a sync with a password but not the user it needs.
        if (asDefaultUser) {
          await client.call("CONFIG", "SET", "masteruser", "default");
          await client.call("CONFIG", "SET", "masterauth", password);
        } else {
          await client.call("CONFIG", "SET", "masterauth", password);
          await client.call("CONFIG", "SET", "masteruser", "");
        }
      }),
    reloadTls: (certFile) =>
      wrap("CONFIG SET tls-cert-file", async () => {
        await client.call("CONFIG", "SET", "tls-cert-file", certFile);
      }),
    disconnectClients: () =>
      wrap("CLIENT KILL TYPE normal", async () => {
        await client.call("CLIENT", "KILL", "TYPE", "normal");
      }),
    keyCount: () =>
      wrap("INFO keyspace", async () => {
        const text = await client.info("keyspace");
        return [...text.matchAll(/^db\d+:keys=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      }),
    uptimeSeconds: () =>
      wrap("INFO server", async () => {
        const text = await client.info("server");
        const uptime = Number(text.match(/^uptime_in_seconds:(\d+)/m)?.[1] ?? NaN);
        if (!Number.isFinite(uptime)) throw new Error("no uptime_in_seconds in INFO server");
        return uptime;
      }),
    fencing: () =>
      wrap("CONFIG GET min-replicas-*", async () => {
        const [toWrite, maxLag] = await Promise.all([
          client.call("CONFIG", "GET", "min-replicas-to-write") as Promise<string[]>,
          client.call("CONFIG", "GET", "min-replicas-max-lag") as Promise<string[]>,
        ]);
        return {
          minReplicasToWrite: Number(toWrite[1]),
          minReplicasMaxLagSeconds: Number(maxLag[1]),
        };
      }),
    setFencing: (fencing) =>
      wrap("CONFIG SET min-replicas-*", async () => {
        await client.call(
          "CONFIG",
          "SET",
          "min-replicas-max-lag",
          fencing.minReplicasMaxLagSeconds,
        );
        await client.call("CONFIG", "SET", "min-replicas-to-write", fencing.minReplicasToWrite);
      }),
    servesStaleData: () =>
      wrap("CONFIG GET replica-serve-stale-data", async () => {
        const [, value] = await client.call(
          "CONFIG",
          "GET",
          "replica-serve-stale-data",
        ) as string[];
        if (value !== "yes" && value !== "no") {
          throw new Error(`replica-serve-stale-data is ${JSON.stringify(value)}`);
        }
        return value === "yes";
      }),
    setServeStaleData: (serve) =>
      wrap("CONFIG SET replica-serve-stale-data", async () => {
        await client.call("CONFIG", "SET", "replica-serve-stale-data", serve ? "yes" : "no");
      }),
    close: () => client.disconnect(),
  };
}

/**
 * Ends a reconfiguring transaction as Sentinel does: every normal and pub/sub
 * client of the instance is disconnected (our own connection is skipped), so
 * applications go back through discovery and find the new master at once
 * instead of getting READONLY from a demoted one until they reconnect.
 */
function disconnectingClients(transaction: ChainableCommander): ChainableCommander {
  return transaction.call("CLIENT", "KILL", "TYPE", "normal").call(
    "CLIENT",
    "KILL",
    "TYPE",
    "pubsub",
  );
}

/**
 * The planned handover, on every Redis version: fence and read the offset in
 * one transaction (`min-replicas-to-write` set out of reach makes this master
 * refuse every write from then on), wait until the target has that offset (≥:
 * the master's own pings move it on), promote the target, then park this one
 * and lift the fence in one transaction.
 *
 * Why not `FAILOVER TO` (6.2+): it pauses writes and then waits for the
 * target's REPLCONF ACK, which a replica sends once a second, and the master
 * does not ask for one (GETACK) while writes are paused; under load the pause
 * lasts 0 to 1 s, about half a second on average. Polling the target's own
 * offset ends it within milliseconds. Not `CLIENT PAUSE` before 6.2 either:
 * it pauses our own connection too, so `REPLICAOF` would run only after the
 * pause, behind writes the old master would accept and then lose.
 *
 * The old master is parked, not pointed at the target: applications that
 * kube-proxy still sends to it must not read from it while the target takes
 * writes (it would answer a few milliseconds behind them). Parked with
 * `replica-serve-stale-data no`, it answers reads `MASTERDOWN` and writes
 * `READONLY`; the operator points it at the target once kube-proxy has moved
 * (`readHoldMs`), and it resumes from its offset (a partial resync).
 *
 * Interrupted after the promotion, the old master stays fenced: it refuses
 * writes until the next pass parks it or makes it a replica, and the next promotion of it
 * resets the fence ({@linkcode RedisNode.promote}). If the target does not
 * catch up in time, the fence is lifted and nothing else changes.
 *
 * Once `mayAct` says no (this operator no longer leads), nothing more is sent
 * and the old master stays fenced: lifting the fence then could let it take
 * writes that the next leader's own handover or failover would lose. The next
 * leader lifts or keeps it as it decides (repairFencing).
 */
async function fenceAndSwap(
  client: Redis,
  target: RedisNode,
  timeoutMs: number,
  minReplicasToWrite: number,
  mayAct: () => boolean,
): Promise<void> {
  const results = await client.multi()
    .call("CONFIG", "SET", "min-replicas-to-write", "1000000")
    .info("replication")
    .exec();
  const info = String(results?.[1]?.[1] ?? "");
  const offset = Number(info.match(/master_repl_offset:(\d+)/)?.[1] ?? NaN);
  const unfence = () => client.call("CONFIG", "SET", "min-replicas-to-write", minReplicasToWrite);
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
    await target.promote(minReplicasToWrite);
  } catch (error) {
    if (!mayAct()) {
      throw new Error(`${describeError(error)}; left fenced: ${notLeading}`, { cause: error });
    }
    await unfence();
    throw error;
  }
  if (!mayAct()) {
    throw new HandedOverError(`the target was promoted; this instance left fenced: ${notLeading}`);
  }
  try {
    const swapped = await disconnectingClients(
      client.multi()
        .call("CONFIG", "SET", "replica-serve-stale-data", "no")
        .call("REPLICAOF", parkingAddress.host, String(parkingAddress.port))
        .call("CONFIG", "SET", "min-replicas-to-write", String(minReplicasToWrite)),
    ).exec();
    const failed = swapped?.find(([error]: [Error | null, unknown]) => error);
    if (!swapped || failed) throw failed?.[0] ?? new Error("transaction aborted");
  } catch (error) {
    // Still fenced or parked either way; the target takes writes, so it must be recorded.
    throw new HandedOverError(
      `the target was promoted, but parking this instance failed: ${describeError(error)}`,
      { cause: error },
    );
  }
}

const notLeading = "this operator no longer leads";
