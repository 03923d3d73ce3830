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
import type { StoredPasswords } from "../decide/password.ts";
import { matchesDesired } from "../decide/drift.ts";
import { unlessNotFound } from "../kube/client.ts";
import { buildConfigMap } from "../specs/config_map.ts";
import { buildMasterEndpointSlice, foreignMasterSlices } from "../specs/master_endpoints.ts";
import { buildPodDisruptionBudget } from "../specs/pdb.ts";
import { buildSecret } from "../specs/secret.ts";
import { buildServices } from "../specs/services.ts";
import { buildStatefulSet } from "../specs/stateful_set.ts";
import type { ReconcileDeps } from "./deps.ts";
import { redisPods } from "./observe.ts";

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

/** The operator's password Secret: what it should hold, and what it holds now. */
export interface SecretState {
  readonly passwords: StoredPasswords;
  readonly current: Secret | undefined;
}

/** Reads the operator's copy of the password Secret by name (Secrets are not watched). */
export async function readOwnSecret(
  deps: ReconcileDeps,
  redis: Redis,
): Promise<Secret | undefined> {
  const name = objectNames(redis.metadata?.name ?? "").base;
  return await unlessNotFound(deps.apis.secrets.get(redis.metadata?.namespace ?? "", name));
}

/** Records `passwords` in the operator's Secret: what pods start with from now on. */
export async function writeOwnSecret(
  deps: ReconcileDeps,
  redis: Redis,
  passwords: StoredPasswords,
): Promise<void> {
  await applyIfDrifted(
    "Secret",
    buildSecret(redis, passwords),
    undefined,
    (n, body) => deps.apis.secrets.apply(n, body, { fieldManager, force: true }),
  );
}

/** Applies every owned object except the ConfigMap; returns the kinds/names it wrote. */
export async function syncOwnedObjects(
  deps: ReconcileDeps,
  redis: Redis,
  secret: SecretState | undefined,
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
  if (secret) {
    await sync(
      "Secret",
      buildSecret(redis, secret.passwords),
      secret.current,
      (n, body) => deps.apis.secrets.apply(n, body, opts),
    );
  }
  for (const desired of buildServices(redis)) {
    const current = deps.caches.services.get(ns, desired.metadata!.name!);
    if (current?.spec?.selector && !desired.spec?.selector) {
      // A selector on the master Service (ours from an older version, or one added by
      // hand) would let the EndpointSlice controller publish pods too. Apply only drops
      // fields we own, so it is removed with a patch.
      await sync(
        "Service",
        desired,
        undefined,
        (n, body) =>
          deps.apis.services.patch(n, body.metadata!.name!, { spec: { selector: null } }),
      );
    }
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

/**
 * Points the master Service at `master`, or, with no master this pass, only
 * makes sure the slice exists: a pass that cannot see the master must not
 * take the Service off it. Slices of the master Service that another
 * controller wrote are deleted. True when it wrote.
 */
export async function syncMasterEndpoints(
  deps: ReconcileDeps,
  redis: Redis,
  master: { readonly pod: string; readonly ip: string } | undefined,
): Promise<boolean> {
  const ns = redis.metadata?.namespace ?? "";
  const pod = master && redisPods(deps, redis).find((p) => p.metadata?.name === master.pod);
  const desired = buildMasterEndpointSlice(redis, pod && { pod, ip: master.ip });
  const current = deps.caches.endpointSlices.get(ns, desired.metadata!.name!);
  let wrote = false;
  for (const foreign of foreignMasterSlices(redis, deps.caches.endpointSlices.list(ns))) {
    await unlessNotFound(deps.apis.endpointSlices.delete(ns, foreign.metadata!.name!));
    wrote = true;
  }
  if (current && !pod) return wrote;
  return await applyIfDrifted(
    "EndpointSlice",
    desired,
    current,
    (n, body) => deps.apis.endpointSlices.apply(n, body, { fieldManager, force: true }),
  ) || wrote;
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
