/**
 * Brings the objects a Redis owns in line with what the operator would build:
 * an object that is missing or differs in a field the operator sets is applied
 * (server-side apply, forced for the fields it owns); one that matches is not
 * touched, so a pass that finds nothing to change writes nothing.
 *
 * @module
 */
import type { Secret } from "kubernetes-types/core/v1.d.ts";
import { fieldManager, objectNames, type Redis } from "../api/redis.ts";
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
  const ns = redis.metadata?.namespace ?? "";
  const current = deps.caches.configMaps.get(ns, desired.metadata?.name ?? "");
  if (current && matchesDesired(desired, current)) return false;
  await apply(
    "ConfigMap",
    desired.metadata?.name,
    () => deps.apis.configMaps.apply(ns, desired, { fieldManager, force: true }),
  );
  return true;
}

/** Applies every owned object except the ConfigMap; returns the kinds/names it wrote. */
export async function syncOwnedObjects(
  deps: ReconcileDeps,
  redis: Redis,
  password: string | undefined,
  replicas: number,
): Promise<string[]> {
  const ns = redis.metadata?.namespace ?? "";
  const written: string[] = [];
  const opts = { fieldManager, force: true };
  if (password !== undefined) {
    const desired = buildSecret(redis, password);
    let current: Secret | undefined;
    try {
      current = await deps.apis.secrets.get(ns, desired.metadata!.name!);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (!current || !matchesDesired(desired, current)) {
      await apply(
        "Secret",
        desired.metadata?.name,
        () => deps.apis.secrets.apply(ns, desired, opts),
      );
      written.push(`Secret/${desired.metadata?.name}`);
    }
  }
  for (const desired of buildServices(redis)) {
    const current = deps.caches.services.get(ns, desired.metadata!.name!);
    if (current && matchesDesired(desired, current)) continue;
    await apply(
      "Service",
      desired.metadata?.name,
      () => deps.apis.services.apply(ns, desired, opts),
    );
    written.push(`Service/${desired.metadata?.name}`);
  }
  const pdb = buildPodDisruptionBudget(redis);
  const currentPdb = deps.caches.pdbs.get(ns, pdb.metadata!.name!);
  if (!currentPdb || !matchesDesired(pdb, currentPdb)) {
    await apply(
      "PodDisruptionBudget",
      pdb.metadata?.name,
      () => deps.apis.pdbs.apply(ns, pdb, opts),
    );
    written.push(`PodDisruptionBudget/${pdb.metadata?.name}`);
  }
  const statefulSet = buildStatefulSet(redis, replicas);
  const currentSet = deps.caches.statefulSets.get(ns, statefulSet.metadata!.name!);
  if (!currentSet || !matchesDesired(statefulSet, currentSet)) {
    await apply(
      "StatefulSet",
      statefulSet.metadata?.name,
      () => deps.apis.statefulSets.apply(ns, statefulSet, opts),
    );
    written.push(`StatefulSet/${statefulSet.metadata?.name}`);
  }
  return written;
}

/** Name of the ConfigMap, for callers that read the recorded master from it. */
export function configMapName(redis: Redis): string {
  return objectNames(redis.metadata?.name ?? "").base;
}

async function apply(
  kind: string,
  name: string | undefined,
  run: () => Promise<unknown>,
): Promise<void> {
  try {
    await run();
  } catch (cause) {
    throw new ApplyError(
      `Cannot apply ${kind} ${name}: ${cause instanceof Error ? cause.message : cause}`,
      { cause },
    );
  }
}
