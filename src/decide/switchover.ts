/**
 * A switchover asked for by a user or a Sentinel client, through the
 * annotation `redis-operator.dev/switchover`:
 *
 * - a number, the epoch whose master should hand over to the best replica
 *   (what `SENTINEL FAILOVER` sets): once done, the epoch has moved on, so the
 *   request is served once and an old one never moves a later master;
 * - a pod name, the replica that should take over: served once that pod is
 *   the master, when the operator removes the annotation (left in place, it
 *   would pull the master back after a later failover).
 *
 * An annotation, not a spec field: a request is an event, not a state to keep,
 * and `kubectl annotate` needs no change of spec (no new generation, no
 * rollout bookkeeping). Pure functions.
 *
 * @module
 */
import type { Redis } from "../api/redis.ts";
import type { InstanceObservation } from "./replication.ts";

/** The annotation: `kubectl annotate --overwrite redis NAME redis-operator.dev/switchover=POD`. */
export const switchoverAnnotation = "redis-operator.dev/switchover";

/** What the annotation asks for. */
export type SwitchoverRequest =
  | { readonly kind: "none" }
  | { readonly kind: "best" }
  | { readonly kind: "to"; readonly pod: string };

/** Reads the request; a pod-name request that the master already is asks for nothing more. */
export function switchoverRequest(redis: Redis): SwitchoverRequest {
  const value = redis.metadata?.annotations?.[switchoverAnnotation]?.trim();
  if (!value) return { kind: "none" };
  if (/^\d+$/.test(value)) {
    return value === String(redis.status?.epoch ?? 0) ? { kind: "best" } : { kind: "none" };
  }
  return { kind: "to", pod: value };
}

/**
 * The handover still asked for, as decideReplication takes it (`to` the pod
 * named, or to the best replica without it), or undefined when none is.
 */
export function pendingSwitchover(redis: Redis): { readonly to?: string } | undefined {
  const request = switchoverRequest(redis);
  if (request.kind === "best") return {};
  return request.kind === "to" && request.pod !== redis.status?.master
    ? { to: request.pod }
    : undefined;
}

/** Has a pod-name request been carried out, so its annotation can go? */
export function switchoverServed(redis: Redis, masterPod: string | undefined): boolean {
  const request = switchoverRequest(redis);
  return request.kind === "to" && masterPod !== undefined && request.pod === masterPod;
}

/**
 * Why the pod asked for cannot take over from `masterPod` now, or undefined
 * when it can (or already has). While it cannot, nothing moves and the
 * reason is reported; a replica that catches up takes over then.
 */
export function switchoverRefusal(
  observations: readonly InstanceObservation[],
  masterPod: string | undefined,
  to: string,
  desiredReplicas?: number,
): string | undefined {
  if (to === masterPod) return undefined;
  const target = observations.find((o) => o.pod === to);
  if (!target) return `there is no pod ${to} in this Redis`;
  const master = observations.find((o) => o.pod === masterPod);
  if (!target.info) return `${to} does not answer`;
  if (target.info.role !== "replica" || !master || target.info.masterHost !== master.ip) {
    return `${to} is not a replica of the master ${masterPod ?? "(none)"}`;
  }
  if (!target.info.masterLinkUp || target.info.syncInProgress) {
    return `${to} is behind: its link to the master is down or it is still copying`;
  }
  if (target.info.priority === 0) return `${to} has replica-priority 0 and is never promoted`;
  if (target.terminating) return `${to} is being deleted`;
  if (desiredReplicas !== undefined && target.ordinal >= desiredReplicas) {
    return `${to} is removed by the scale-down`;
  }
  return undefined;
}
