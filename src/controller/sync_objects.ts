/**
 * Brings the objects a Redis owns in line with what the operator would build:
 * an object that is missing or differs in a field the operator sets is applied
 * (server-side apply, forced for the fields it owns); one that matches is not
 * touched, so a pass that finds nothing to change writes nothing.
 *
 * @module
 */
import { fieldManager, type Redis } from "../api/redis.ts";
import { matchesDesired } from "../decide/drift.ts";
import { isNotFound } from "../kube/client.ts";
import { buildConfigMap } from "../specs/config_map.ts";
import { buildPodDisruptionBudget } from "../specs/pdb.ts";
import { buildSecret } from "../specs/secret.ts";
import { buildServices } from "../specs/services.ts";
import { buildStatefulSet } from "../specs/stateful_set.ts";
import type { ReconcileDeps } from "./deps.ts";

/** Thrown when an object cannot be applied; the reconciler reports it. */
export class ApplyError extends Error {
  override name = "ApplyError";
}

/** Applies the ConfigMap if it differs; true when it wrote. */
export async function syncConfigMap(
  deps: ReconcileDeps,
  redis: Redis,
  masterIP: string,
): Promise<boolean> {
  const desired = buildConfigMap(redis, masterIP);
  const current = deps.caches.configMaps.get(
    redis.metadata?.namespace ?? "",
    desired.metadata!.name!,
  );
  return await applyIfDrifted(
    "ConfigMap",
    desired,
    current,
    (ns, body) => deps.apis.configMaps.apply(ns, body, { fieldManager, force: true }),
  );
}

/** Applies every owned object except the ConfigMap; returns the kinds/names it wrote. */
export async function syncOwnedObjects(
  deps: ReconcileDeps,
  redis: Redis,
  password: string | undefined,
  replicas: number,
): Promise<string[]> {
  const ns = redis.metadata?.namespace ?? "";
  const opts = { fieldManager, force: true };
  const written: string[] = [];
  const sync = async <T extends { metadata?: { name?: string } }>(
    kind: string,
    desired: T,
    current: T | undefined,
    applyObject: (namespace: string, body: T) => Promise<unknown>,
  ) => {
    if (await applyIfDrifted(kind, desired, current, applyObject)) {
      written.push(`${kind}/${desired.metadata?.name}`);
    }
  };
  if (password !== undefined) {
    // Secrets are not watched (least privilege): read the operator's copy by name.
    const desired = buildSecret(redis, password);
    const current = await deps.apis.secrets.get(ns, desired.metadata!.name!).catch((error) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    await sync("Secret", desired, current, (n, body) => deps.apis.secrets.apply(n, body, opts));
  }
  for (const desired of buildServices(redis)) {
    const current = deps.caches.services.get(ns, desired.metadata!.name!);
    await sync("Service", desired, current, (n, body) => deps.apis.services.apply(n, body, opts));
  }
  const pdb = buildPodDisruptionBudget(redis);
  await sync(
    "PodDisruptionBudget",
    pdb,
    deps.caches.pdbs.get(ns, pdb.metadata!.name!),
    (n, body) => deps.apis.pdbs.apply(n, body, opts),
  );
  const statefulSet = buildStatefulSet(redis, replicas);
  await sync(
    "StatefulSet",
    statefulSet,
    deps.caches.statefulSets.get(ns, statefulSet.metadata!.name!),
    (n, body) => deps.apis.statefulSets.apply(n, body, opts),
  );
  return written;
}

/** Applies `desired` unless `current` already says everything it says; true when it wrote. */
async function applyIfDrifted<T extends { metadata?: { name?: string; namespace?: string } }>(
  kind: string,
  desired: T,
  current: T | undefined,
  applyObject: (namespace: string, body: T) => Promise<unknown>,
): Promise<boolean> {
  if (current && matchesDesired(desired, current)) return false;
  try {
    await applyObject(desired.metadata?.namespace ?? "", desired);
  } catch (cause) {
    throw new ApplyError(
      `Cannot apply ${kind} ${desired.metadata?.name}: ${
        cause instanceof Error ? cause.message : cause
      }`,
      { cause },
    );
  }
  return true;
}
