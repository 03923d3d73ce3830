/**
 * Does Redis's `maxmemory` fit the container's memory limit? Pure.
 *
 * With a memory limit, the kernel kills Redis (OOMKilled) once it goes over,
 * and with it every write since the last copy a replica took. Redis stays
 * under `maxmemory` for its data only: client buffers, the replication
 * backlog and, during a full copy or a save, the pages a fork duplicates come
 * on top. So `maxmemory` must be set, and well below the limit.
 *
 * @module
 */
import { parseQuantity } from "./drift.ts";

/** Above this share of the limit, `maxmemory` leaves too little for buffers and forks. */
export const maxmemoryShareOfLimit = 0.8;

/** Redis's memory units: k/m/g are powers of 1000, kb/mb/gb of 1024; case does not matter. */
export function parseRedisMemory(value: string): number | undefined {
  const match = value.trim().replace(/^["']|["']$/g, "").toLowerCase().match(
    /^(\d+)(k|kb|m|mb|g|gb)?$/,
  );
  if (!match) return undefined;
  const unit = { k: 1e3, kb: 2 ** 10, m: 1e6, mb: 2 ** 20, g: 1e9, gb: 2 ** 30 }[
    match[2] as "k" | "kb" | "m" | "mb" | "g" | "gb"
  ] ?? 1;
  return Number(match[1]) * unit;
}

/**
 * Why `maxmemory` (from spec.config) does not fit the Redis container's memory
 * limit, or undefined when it does or there is no limit.
 *
 * @example
 * ```ts
 * console.assert(maxmemoryProblem({ maxmemory: "64mb" }, "256Mi") === undefined);
 * console.assert(maxmemoryProblem({}, "256Mi")?.includes("not set"));
 * ```
 */
export function maxmemoryProblem(
  config: Readonly<Record<string, string>> | undefined,
  limit: string | number | undefined,
): string | undefined {
  const limitBytes = typeof limit === "number" ? limit : limit ? parseQuantity(limit) : undefined;
  if (!limitBytes) return undefined;
  const suggestion = `${Math.floor(limitBytes * 0.75 / 2 ** 20)}mb`;
  const raw = config?.maxmemory;
  const maxmemory = raw === undefined ? 0 : parseRedisMemory(raw);
  if (maxmemory === undefined) return undefined; // Redis itself judges a value it cannot read
  if (maxmemory === 0) {
    return `spec.config.maxmemory is not set while the Redis container's memory limit is ${limit}: Redis grows until the kernel kills it (OOMKilled); set maxmemory to about ${suggestion}`;
  }
  if (maxmemory > limitBytes * maxmemoryShareOfLimit) {
    return `spec.config.maxmemory ${raw} is ${
      Math.round(maxmemory / limitBytes * 100)
    }% of the container's memory limit ${limit}: client buffers, the replication backlog and a fork during a full copy come on top, and over the limit the kernel kills Redis (OOMKilled); set maxmemory to about ${suggestion}, or raise the limit`;
  }
  return undefined;
}
