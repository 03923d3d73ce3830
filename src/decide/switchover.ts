/**
 * A switchover asked for by a user or a Sentinel client (`SENTINEL FAILOVER`):
 * the annotation names the epoch whose master should hand over. Once the
 * handover is done the epoch has moved on, so a request is served once and an
 * old one never moves a later master; nothing needs to clear it.
 *
 * @module
 */
import type { Redis } from "../api/redis.ts";

/** The annotation: `kubectl annotate --overwrite redis NAME redis-operator.dev/switchover=EPOCH`. */
export const switchoverAnnotation = "redis-operator.dev/switchover";

/** Is a planned handover of the current master requested? */
export function switchoverRequested(redis: Redis): boolean {
  const value = redis.metadata?.annotations?.[switchoverAnnotation];
  return value !== undefined && value.trim() === String(redis.status?.epoch ?? 0);
}
