/**
 * The Sentinel-compatible endpoint of one operator replica, leader or not: its
 * own watches of Redis resources, their pods and master EndpointSlices (the
 * controller's caches live only while it leads), the server, and the
 * `+switch-master` messages sent when a master slice moves.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import { SecretApi } from "../../generated/core@v1/mod.ts";
import { fieldManager, labels, objectNames, type Redis, RedisApi } from "../api/redis.ts";
import { isNotFound, type RestClient } from "../kube/client.ts";
import { Informer } from "../kube/informer.ts";
import type { OperatorMetrics } from "../observe/metrics.ts";
import { storedPasswords } from "../specs/secret.ts";
import { switchoverAnnotation } from "../decide/switchover.ts";
import { type Reply, reply } from "./resp.ts";
import { defaultServerLimits, serveSentinel } from "./server.ts";
import {
  buildEntries,
  knownMasters,
  masterSwitches,
  type SentinelEntry,
  switchMasterMessage,
} from "./view.ts";

/** The port redis-sentinel listens on, and so does the endpoint. */
export const sentinelPort = 26379;

/** How long a Redis's passwords are trusted before the Secret is read again. */
const passwordCacheMs = 5000;

/** Runs the endpoint until `signal` aborts. */
export async function runSentinelEndpoint(options: {
  readonly client: RestClient;
  readonly port: number;
  readonly identity: string;
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** Connections at once (each costs a few KB); {@linkcode defaultServerLimits} otherwise. */
  readonly maxClients?: number;
}): Promise<void> {
  const { client, log, metrics, signal } = options;
  const owned = `${labels.managedBy}=${fieldManager}`;
  let dirty = true;
  let entries: SentinelEntry[] = [];
  let lastMasters = new Map<string, string>();
  let synced = false;
  const redisApi = new RedisApi(client);
  const secrets = new SecretApi(client);
  // A re-list reports every object at once: the view is rebuilt, and switches looked for,
  // once per burst of changes (in the next turn of the event loop), never once per object.
  let announcing: ReturnType<typeof setTimeout> | undefined;
  const changed = () => {
    dirty = true;
    if (synced && announcing === undefined) {
      announcing = setTimeout(() => {
        announcing = undefined;
        try {
          announceSwitches();
        } catch (error) {
          // A timer that throws would end the process, and failovers with it.
          log.error("cannot announce master switches", { error: String(error) });
        }
      }, 0);
    }
  };
  const caches = {
    redis: new Informer<Redis>(client, redisApi.path(undefined), { onChange: changed }),
    // Pods change no master: they only make the view stale.
    pods: new Informer<Pod>(client, "/api/v1/pods", {
      labelSelector: owned,
      onChange: () => dirty = true,
    }),
    slices: new Informer<EndpointSlice>(client, "/apis/discovery.k8s.io/v1/endpointslices", {
      labelSelector: owned,
      onChange: changed,
    }),
  };
  const current = () => {
    if (dirty) {
      dirty = false;
      const podsByRedis = new Map<string, Pod[]>();
      for (const pod of caches.pods.all()) {
        const key = `${pod.metadata?.namespace}/${pod.metadata?.labels?.[labels.instance]}`;
        podsByRedis.set(key, [...podsByRedis.get(key) ?? [], pod]);
      }
      entries = buildEntries({
        redis: caches.redis.all(),
        podsOf: (namespace, name) => podsByRedis.get(`${namespace}/${name}`) ?? [],
        masterSlice: (namespace, name) => caches.slices.get(namespace, name),
      });
    }
    return entries;
  };
  // Slices and Redis resources change in one pass: the switch is announced once, at the
  // slice, because masterSwitches only moves on a ready address in it.
  const announceSwitches = () => {
    const { switches, next } = masterSwitches(lastMasters, current());
    lastMasters = next;
    for (const change of switches) {
      const message = switchMasterMessage(change);
      log.info("announcing a new master", { master: change.key, message });
      const entry = entries.find((e) => e.key === change.key)!;
      server.publish("+switch-master", message, entry).catch(() => {});
    }
  };

  const passwords = new Map<string, { at: number; values: Promise<string[]> }>();
  const lastRead = new Map<string, string[]>();
  const passwordsOf = (key: string) => {
    const cached = passwords.get(key);
    if (cached && Date.now() - cached.at < passwordCacheMs) return cached.values;
    const [namespace, name] = key.split("/") as [string, string];
    const values = secrets.get(namespace, objectNames(name).base, { signal }).then(
      (secret) => {
        const stored = storedPasswords(secret);
        const read = [stored?.password, stored?.previous].filter((p): p is string => !!p);
        lastRead.set(key, read);
        return read;
      },
      // Kept for the cache's time too, so failed AUTHs never turn into API requests; a
      // Secret that cannot be read now (the API server busy in a failover) keeps its last
      // passwords rather than locking every client out.
      (error) => {
        if (isNotFound(error)) {
          lastRead.delete(key);
          return [];
        }
        log.warn("cannot read a password", { key, error: String(error) });
        return lastRead.get(key) ?? [];
      },
    );
    passwords.set(key, { at: Date.now(), values });
    return values;
  };

  const requestFailover = async (entry: SentinelEntry): Promise<Reply> => {
    const [namespace, name] = entry.key.split("/") as [string, string];
    const redis = caches.redis.get(namespace, name);
    const epoch = String(redis?.status?.epoch ?? 0);
    if (!entry.master?.up || !entry.replicas.some((r) => r.up)) {
      return reply.error("NOGOODSLAVE No suitable replica to promote");
    }
    if (redis?.metadata?.annotations?.[switchoverAnnotation] === epoch) {
      return reply.error("INPROG Failover already in progress");
    }
    try {
      await redisApi.patch(namespace, name, {
        metadata: { annotations: { [switchoverAnnotation]: epoch } },
      });
    } catch (error) {
      log.warn("cannot request a switchover", { key: entry.key, error: String(error) });
      return reply.error(`ERR the switchover request could not be recorded: ${error}`);
    }
    log.info("switchover requested through the Sentinel endpoint", { key: entry.key, epoch });
    return reply.ok;
  };

  // Listening at once, so a Ready replica never refuses a connection; commands wait until
  // the caches are filled, since until then every name would be unknown.
  let markSynced = () => {};
  const ready = new Promise<void>((resolve) => markSynced = resolve);
  const server = serveSentinel({
    hostname: "::",
    port: options.port,
    ready,
    limits: {
      ...defaultServerLimits,
      maxClients: options.maxClients ?? defaultServerLimits.maxClients,
    },
    context: {
      entries: current,
      passwordMatches: async (key, password) =>
        (await Promise.all((await passwordsOf(key)).map((p) => sameSecret(p, password))))
          .some(Boolean),
      requestFailover,
      myId: await sentinelId(options.identity),
      startedAt: Date.now(),
    },
    events: {
      onClientsChanged: (count) => metrics.sentinelClients.set({}, count),
      onMessagePushed: (channel) => metrics.sentinelMessages.inc({ channel }),
      onCommand: (command) => metrics.sentinelCommands.inc({ command: knownCommand(command) }),
    },
  });
  log.info("Sentinel endpoint listening", { port: server.port });
  const watches = Object.entries(caches).map(([kind, informer]) =>
    informer.run(
      signal,
      (error) => log.warn("watch failed, retrying", { kind, error: String(error) }),
    )
  );
  await Promise.race([
    Promise.all(Object.values(caches).map((c) => c.synced)),
    new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true })),
  ]);
  if (!signal.aborted) {
    // The masters known at start are no switch.
    lastMasters = knownMasters(current());
    synced = true;
    markSynced();
    log.info("Sentinel endpoint serving", { redis: caches.redis.all().length });
  }
  await Promise.all(watches);
  await server.close();
}

/** A stable 40-hex-digit ID per operator replica, as Sentinel's `myid`. */
async function sentinelId(identity: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(identity));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares two secrets by their digests, so the time taken says nothing of where they differ. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const digest = async (s: string) =>
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let difference = 0;
  for (let i = 0; i < x.length; i++) difference |= x[i]! ^ y[i]!;
  return difference === 0;
}

/** Metric labels stay bounded: a client sending random command names adds no series. */
function knownCommand(command: string): string {
  return [
      "ping",
      "auth",
      "hello",
      "client",
      "role",
      "info",
      "sentinel",
      "subscribe",
      "psubscribe",
      "unsubscribe",
      "punsubscribe",
      "quit",
      "reset",
    ].includes(command)
    ? command
    : "other";
}
