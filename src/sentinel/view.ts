/**
 * What the Sentinel endpoint serves, derived from the cluster: each Redis
 * resource under its master name, with the master clients should use and its
 * replicas. Pure: objects in, entries out.
 *
 * The master is the one in the master Service's EndpointSlice. The leader
 * writes that slice once the promotion is done (controller/reconcile.ts), so
 * a client sent there finds a master that takes writes, not a replica still
 * being promoted.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import { labels, objectNames, type Redis, servingPort } from "../api/redis.ts";

/** One Redis resource as the endpoint serves it. */
export interface SentinelEntry {
  /** `namespace/name` of the Redis resource. */
  readonly key: string;
  /** The master name clients ask for. */
  readonly name: string;
  /** Clients see it only after AUTH with its password. */
  readonly protected: boolean;
  /** The port of its instances: the TLS port with spec.tls (clients then speak TLS). */
  readonly port: number;
  /** Where clients should write; undefined before the first master. */
  readonly master?: { readonly ip: string; readonly port: number; readonly up: boolean };
  readonly replicas: ReadonlyArray<SentinelReplica>;
  /** status.epoch: Sentinel's config-epoch. */
  readonly epoch: number;
  /** spec.failover.detectionWindowMs: Sentinel's down-after-milliseconds. */
  readonly downAfterMs: number;
}

/** A replica as the endpoint reports it. */
export interface SentinelReplica {
  readonly ip: string;
  readonly port: number;
  /** Its pod is Ready. */
  readonly up: boolean;
  readonly masterIp?: string;
}

/** The name a Redis is served under unless spec.sentinel.masterName says otherwise. */
export function defaultMasterName(redis: Redis): string {
  return `${redis.metadata?.namespace ?? ""}/${redis.metadata?.name ?? ""}`;
}

/** The master name a Redis asks for. */
export function requestedMasterName(redis: Redis): string {
  return redis.spec?.sentinel?.masterName ?? defaultMasterName(redis);
}

/**
 * Which Redis answers to each name: one per name, the oldest when several ask
 * for it (then by namespace/name), so a newcomer can never take a name that
 * applications already use. Default names contain a `/`, which a chosen name
 * may not, so only chosen names can clash.
 */
export function assignMasterNames(all: readonly Redis[]): {
  /** Name → `namespace/name` of the Redis that answers to it. */
  readonly served: ReadonlyMap<string, string>;
  /** `namespace/name` of each Redis refused its name. */
  readonly refused: ReadonlySet<string>;
} {
  // The holder first (its status records the name): an older Redis that asks for a name
  // later must not take it from under the applications using it.
  const holds = (r: Redis) => r.status?.sentinelMasterName === requestedMasterName(r) ? 0 : 1;
  const ordered = [...all].filter((r) => !r.metadata?.deletionTimestamp).sort((a, b) =>
    holds(a) - holds(b) ||
    (a.metadata?.creationTimestamp ?? "").localeCompare(b.metadata?.creationTimestamp ?? "") ||
    keyOf(a).localeCompare(keyOf(b))
  );
  const served = new Map<string, string>();
  const refused = new Set<string>();
  for (const redis of ordered) {
    const name = requestedMasterName(redis);
    if (served.has(name)) refused.add(keyOf(redis));
    else served.set(name, keyOf(redis));
  }
  return { served, refused };
}

/**
 * Where `redis` stands among all names, from one assignment: the name it is
 * served under (`""` when another Redis holds the one it asks for), and, when
 * it is refused its name, why.
 */
export function masterNameStanding(
  redis: Redis,
  all: readonly Redis[],
): { readonly served: string; readonly conflict?: string } {
  const name = requestedMasterName(redis);
  const key = keyOf(redis);
  const { served, refused } = assignMasterNames(all);
  return {
    served: served.get(name) === key ? name : "",
    // Which Redis holds the name is not said: it may be in a namespace the reader cannot see.
    ...(refused.has(key)
      ? {
        conflict:
          `spec.sentinel.masterName "${name}" is already served for another Redis resource: this one is not on the Sentinel endpoint until it has a name of its own`,
      }
      : {}),
  };
}

function keyOf(redis: Redis): string {
  return `${redis.metadata?.namespace ?? ""}/${redis.metadata?.name ?? ""}`;
}

/** The ready address in the master Service's slice, if any. */
export function sliceMasterIp(slice: EndpointSlice | undefined): string | undefined {
  const endpoint = slice?.endpoints?.find((e) => e.conditions?.ready !== false);
  return endpoint?.addresses?.[0];
}

/** Everything the view is built from, as the caches hold it. */
export interface ViewSources {
  readonly redis: readonly Redis[];
  /** The Redis pods of a resource. */
  podsOf(namespace: string, name: string): readonly Pod[];
  /** A master Service's EndpointSlice. */
  masterSlice(namespace: string, sliceName: string): EndpointSlice | undefined;
}

/** The entries the endpoint serves, one per name (see {@linkcode assignMasterNames}). */
export function buildEntries(sources: ViewSources): SentinelEntry[] {
  const { served } = assignMasterNames(sources.redis);
  const byKey = new Map(sources.redis.map((r) => [keyOf(r), r]));
  const entries: SentinelEntry[] = [];
  for (const [name, key] of served) {
    const redis = byKey.get(key)!;
    const namespace = redis.metadata?.namespace ?? "";
    const resource = redis.metadata?.name ?? "";
    const sliceIp = sliceMasterIp(sources.masterSlice(namespace, objectNames(resource).master));
    // No ready endpoint (the master was lost, no new one yet): the last one, as Sentinel
    // keeps answering with the last master until it has failed over.
    // Only while one of its pods still has that address: once none has, another pod may
    // get it, and a client sent there would write into someone else's Redis.
    const allPods = sources.podsOf(namespace, resource);
    const recordedIp = redis.status?.masterIP;
    const masterIp = sliceIp ??
      (recordedIp && allPods.some((p) => p.status?.podIP === recordedIp) ? recordedIp : undefined);
    const pods = allPods.filter((p) => p.status?.podIP && !p.metadata?.deletionTimestamp);
    const port = servingPort(redis);
    entries.push({
      key,
      name,
      protected: redis.spec?.password !== undefined,
      port,
      ...(masterIp ? { master: { ip: masterIp, port, up: sliceIp !== undefined } } : {}),
      replicas: pods
        .filter((p) => p.status!.podIP !== masterIp)
        .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""))
        .map((p) => ({
          ip: p.status!.podIP!,
          port,
          up: isReady(p) && p.metadata?.labels?.[labels.role] === "replica",
          ...(masterIp ? { masterIp } : {}),
        })),
      epoch: redis.status?.epoch ?? 0,
      downAfterMs: redis.spec?.failover?.detectionWindowMs ?? 2000,
    });
  }
  return entries;
}

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** A change of master that Sentinel clients are told of (`+switch-master`). */
export interface MasterSwitch {
  readonly key: string;
  readonly name: string;
  readonly from: { readonly ip: string; readonly port: number };
  readonly to: { readonly ip: string; readonly port: number };
}

/**
 * Masters that moved since `last` (key → master ip, only for entries that
 * had one), and the new `last`. A master first seen is no switch.
 */
export function masterSwitches(
  last: ReadonlyMap<string, string>,
  entries: readonly SentinelEntry[],
): { switches: MasterSwitch[]; next: Map<string, string> } {
  const next = new Map<string, string>();
  const switches: MasterSwitch[] = [];
  for (const entry of entries) {
    // Only a master in the slice counts: the fallback (the status) is not yet promoted.
    const ip = entry.master?.up ? entry.master.ip : last.get(entry.key);
    if (!ip) continue;
    next.set(entry.key, ip);
    const before = last.get(entry.key);
    if (before && before !== ip) {
      switches.push({
        key: entry.key,
        name: entry.name,
        from: { ip: before, port: entry.port },
        to: { ip, port: entry.port },
      });
    }
  }
  return { switches, next };
}

/**
 * The masters known when the endpoint starts: the slice's, or, while a master
 * is down, the last recorded one, so the next master is announced as a switch
 * from it rather than taken as the first one seen.
 */
export function knownMasters(entries: readonly SentinelEntry[]): Map<string, string> {
  return new Map(
    entries.filter((e) => e.master).map((e) => [e.key, e.master!.ip] as [string, string]),
  );
}

/** Sentinel's `+switch-master` payload: `<name> <old ip> <old port> <new ip> <new port>`. */
export function switchMasterMessage(change: MasterSwitch): string {
  return `${change.name} ${change.from.ip} ${change.from.port} ${change.to.ip} ${change.to.port}`;
}
