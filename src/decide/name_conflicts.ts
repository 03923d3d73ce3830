/**
 * Two Redis resources of one namespace whose Services would share names. Pure.
 *
 * A Redis's objects are named from its own name with suffixes, so Redis
 * `a-master`'s Service of all its pods is `redis-a-master`, which is also
 * Redis `a`'s master Service; `a-replica` and `a-headless` do the same.
 * Applying both would make the two fight over one object (server-side apply
 * forces the operator's fields), and clients of one would reach the other.
 * The Redis created first keeps its Services; a later one leaves those alone
 * (and its master slice, which would join the other's Service) and says why,
 * while everything else, failover above all, goes on.
 *
 * @module
 */
import { objectNames, type Redis } from "../api/redis.ts";

/** The Services of `redis` another Redis came first to, and what to tell the user. */
export interface NameConflict {
  readonly message: string;
  /** Names of this Redis's Services that an earlier Redis's Services already use. */
  readonly services: readonly string[];
}

/**
 * The Services `redis` must leave alone because an earlier Redis of its
 * namespace (among `all`) has Services of those names. Only Services can
 * collide: the other objects are named `redis-NAME` or `redis-NAME-acl`
 * within their kind, and Secrets already refuse an owner that is not theirs.
 *
 * @example
 * ```ts
 * const at = (name: string, time: string) => ({
 *   metadata: { name, namespace: "n", creationTimestamp: time },
 * });
 * const a = at("a", "2026-01-01T00:00:00Z");
 * const later = at("a-master", "2026-01-02T00:00:00Z");
 * console.assert(nameConflict(later, [a, later])?.services[0] === "redis-a-master");
 * console.assert(nameConflict(a, [a, later]) === undefined);
 * ```
 */
export function nameConflict(redis: Redis, all: readonly Redis[]): NameConflict | undefined {
  const mine = serviceNames(redis);
  const earlier = all.filter((other) =>
    other.metadata?.namespace === redis.metadata?.namespace &&
    other.metadata?.name !== redis.metadata?.name && comesFirst(other, redis)
  );
  const services = new Set<string>();
  const owners = new Set<string>();
  for (const other of earlier) {
    const shared = serviceNames(other).filter((n) => mine.includes(n));
    for (const name of shared) services.add(name);
    if (shared.length) owners.add(other.metadata?.name ?? "");
  }
  if (services.size === 0) return undefined;
  return {
    services: [...services],
    message: `Service ${[...services].join(", ")} of this Redis is already a Service of Redis ${
      [...owners].join(", ")
    } (created earlier): it is left to that one, so clients of that name reach the other Redis; rename one of the two`,
  };
}

/** The Services a Redis has: all pods, headless, master, replicas. */
function serviceNames(redis: Redis): string[] {
  const names = objectNames(redis.metadata?.name ?? "");
  return [names.base, names.headless, names.master, names.replica];
}
/** Created earlier; at the same second, the shorter name (then the lower) first. */
function comesFirst(a: Redis, b: Redis): boolean {
  const at = (r: Redis) => Date.parse(r.metadata?.creationTimestamp ?? "") || 0;
  if (at(a) !== at(b)) return at(a) < at(b);
  const [x, y] = [a.metadata?.name ?? "", b.metadata?.name ?? ""];
  return x.length !== y.length ? x.length < y.length : x < y;
}
