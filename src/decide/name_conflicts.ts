/**
 * Two Redis resources of one namespace whose objects would share names. Pure.
 *
 * A Redis's objects are named from its own name with suffixes, so Redis
 * `a-master`'s StatefulSet and Service are `redis-a-master`, which is also
 * Redis `a`'s master Service; `a-acl` and `a-replica` do the same. Applying
 * both would make the two fight over one object (server-side apply forces the
 * operator's fields), and pods of one would be served under the other's name.
 * The Redis created first keeps its names; a later one gets no objects and is
 * told why.
 *
 * @module
 */
import { objectNames, type Redis } from "../api/redis.ts";

/**
 * Why `redis` gets no objects, if an earlier Redis of its namespace (among
 * `all`) holds one of the names its objects would take.
 *
 * @example
 * ```ts
 * const at = (name: string, time: string) => ({
 *   metadata: { name, namespace: "n", creationTimestamp: time },
 * });
 * const a = at("a", "2026-01-01T00:00:00Z");
 * const later = at("a-master", "2026-01-02T00:00:00Z");
 * console.assert(nameConflict(later, [a, later])?.includes("redis-a-master"));
 * console.assert(nameConflict(a, [a, later]) === undefined);
 * ```
 */
export function nameConflict(redis: Redis, all: readonly Redis[]): string | undefined {
  const mine = namesOf(redis);
  const earlier = all.filter((other) =>
    other.metadata?.namespace === redis.metadata?.namespace &&
    other.metadata?.name !== redis.metadata?.name && comesFirst(other, redis)
  );
  for (const other of earlier) {
    const shared = namesOf(other).filter((n) => mine.includes(n));
    if (shared.length) {
      return `the objects of this Redis would be named ${
        shared.join(", ")
      }, which Redis ${other.metadata?.name} (created earlier) already uses: this one gets no objects until one of the two is renamed`;
    }
  }
  return undefined;
}

function namesOf(redis: Redis): string[] {
  return Object.values(objectNames(redis.metadata?.name ?? ""));
}

/** Created earlier; at the same second, the shorter name (then the lower) first. */
function comesFirst(a: Redis, b: Redis): boolean {
  const at = (r: Redis) => Date.parse(r.metadata?.creationTimestamp ?? "") || 0;
  if (at(a) !== at(b)) return at(a) < at(b);
  const [x, y] = [a.metadata?.name ?? "", b.metadata?.name ?? ""];
  return x.length !== y.length ? x.length < y.length : x < y;
}
