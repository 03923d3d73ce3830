/**
 * The Redis resource: its generated types, identity, object names and labels.
 *
 * @module
 */
import type { Redis } from "../../generated/redis-operator.dev@v1alpha1/mod.ts";

export type {
  Redis,
  RedisSpec,
  RedisStatus,
} from "../../generated/redis-operator.dev@v1alpha1/mod.ts";
export { RedisApi } from "../../generated/redis-operator.dev@v1alpha1/mod.ts";

/** API group and version of the resource. */
export const apiVersion = "redis-operator.dev/v1alpha1";

/** The field manager of every server-side apply the operator makes. */
export const fieldManager = "redis-operator";

/** Default Redis image; Debian's redis-server 7.0 in the local cluster. */
export const defaultRedisImage = "redis:7.0";

/** The port every Redis instance listens on without TLS (closed with TLS, unless plaintext). */
export const redisPort = 6379;

/** The port of TLS connections (spec.tls); 6380, as managed Redis services use it. */
export const tlsPort = 6380;

/**
 * Where the TLS Secret (tls.crt, tls.key, ca.crt) is mounted in the Redis
 * container: beside the config folder, not in it (a mount point cannot be
 * made inside a read-only volume).
 */
export const tlsDir = "/etc/redis-tls";

/** The files of the TLS Secret as Redis reads them (redis.conf, and the reload). */
export const tlsFiles = {
  cert: `${tlsDir}/tls.crt`,
  key: `${tlsDir}/tls.key`,
  ca: `${tlsDir}/ca.crt`,
} as const;

/**
 * How instances of `redis` are reached, by the operator, by replicas and by
 * Sentinel clients: the TLS port with spec.tls, else the plain one.
 */
export function servingPort(redis: Redis): number {
  return redis.spec?.tls ? tlsPort : redisPort;
}

/** The named ports the Redis serves: `redis` (plain) and `redis-tls`, as they are open. */
export function redisPorts(redis: Redis): { name: string; port: number }[] {
  return [
    ...(plainPortOpen(redis) ? [{ name: "redis", port: redisPort }] : []),
    ...(redis.spec?.tls ? [{ name: "redis-tls", port: tlsPort }] : []),
  ];
}

/** Is the plain port open (no TLS, or TLS with plaintext kept)? */
export function plainPortOpen(redis: Redis): boolean {
  return !redis.spec?.tls || redis.spec.tls.plaintext === true;
}

/** Names of everything the operator creates for one Redis, following the seed operator. */
export interface ObjectNames {
  /** StatefulSet, ConfigMap, Secret, PodDisruptionBudget and the Service for all pods. */
  readonly base: string;
  readonly headless: string;
  readonly master: string;
  readonly replica: string;
  /** The Secret of the operator's own ACL users' passwords and the users pods start with. */
  readonly acl: string;
}

/**
 * Object names for a Redis called `name`.
 *
 * @example
 * ```ts
 * console.assert(objectNames("cache").master === "redis-cache-master");
 * ```
 */
export function objectNames(name: string): ObjectNames {
  const base = `redis-${name}`;
  return {
    base,
    headless: `${base}-headless`,
    master: `${base}-master`,
    replica: `${base}-replica`,
    acl: `${base}-acl`,
  };
}

/** Label keys the operator sets. `redis` and `role` are the seed's, so its selectors keep working. */
export const labels = {
  instance: "redis",
  role: "role",
  name: "app.kubernetes.io/name",
  partOf: "app.kubernetes.io/instance",
  managedBy: "app.kubernetes.io/managed-by",
} as const;

/** The two values of the `role` label. */
export type Role = "master" | "replica";

/** Labels that select the pods of one Redis; also the StatefulSet selector, so they never change. */
export function selectorLabels(redis: Redis): Record<string, string> {
  return { [labels.instance]: redis.metadata?.name ?? "", [labels.managedBy]: fieldManager };
}

/** Labels of every object the operator creates for one Redis. */
export function commonLabels(redis: Redis): Record<string, string> {
  return {
    ...selectorLabels(redis),
    [labels.name]: "redis",
    [labels.partOf]: redis.metadata?.name ?? "",
  };
}

/** The ownerReference that makes Kubernetes delete an object with its Redis. */
export function ownerReference(redis: Redis) {
  return {
    apiVersion,
    kind: "Redis",
    name: redis.metadata?.name ?? "",
    uid: redis.metadata?.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata of an object the Redis owns: its name, namespace, labels and owner reference. */
export function ownedMetadata(redis: Redis, name: string) {
  return {
    name,
    namespace: redis.metadata?.namespace ?? "",
    labels: commonLabels(redis),
    ownerReferences: [ownerReference(redis)],
  };
}

/**
 * The replicas a master needs to go on accepting writes, by default: with
 * itself, a majority of the instances (1 of 2 replicas for 3 instances, 2 of 3
 * for 4, 2 of 4 for 5). A master cut off with fewer, say with a replica on its
 * own node while the other instances elect a new master, stops taking writes;
 * with just one, it would take them on both sides of the cut.
 */
export function majorityFence(instances: number): number {
  return Math.floor(instances / 2);
}

/** Failover settings with their defaults (spec.failover). */
export function failoverSettings(redis: Redis): {
  detectionWindowMs: number;
  minReplicasToWrite: number;
  minReplicasMaxLagSeconds: number;
} {
  const failover = redis.spec?.failover ?? {};
  return {
    detectionWindowMs: failover.detectionWindowMs ?? 2000,
    minReplicasToWrite: failover.minReplicasToWrite ?? majorityFence(redis.spec?.replicas ?? 3),
    minReplicasMaxLagSeconds: failover.minReplicasMaxLagSeconds ?? 2,
  };
}

/**
 * Does each pod keep its data on a volume of its own: a claim template, and
 * AOF or RDB snapshots turned on in spec.config (both are off by default)?
 * `liveClaimTemplate`, when the StatefulSet exists, says whether the pods have
 * a data volume: what runs counts, not a spec the StatefulSet could not take
 * (its claim templates cannot change).
 */
export function keepsDataOnVolumes(redis: Redis, liveClaimTemplate?: boolean): boolean {
  const config = Object.fromEntries(
    Object.entries(redis.spec?.config ?? {}).map(([k, v]) => [k.toLowerCase(), v.trim()]),
  );
  const unquoted = (value: string | undefined) => value?.replace(/^(["'])(.*)\1$/, "$2").trim();
  const appendOnly = unquoted(config["appendonly"])?.toLowerCase() === "yes";
  const snapshots = (unquoted(config["save"]) ?? "") !== "";
  const volume = liveClaimTemplate ?? redis.spec?.dataVolumeClaimTemplate !== undefined;
  return volume && (appendOnly || snapshots);
}
