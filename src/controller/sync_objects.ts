/**
 * Brings the objects a Redis owns in line with what the operator would build:
 * an object that is missing or differs in a field the operator sets is applied
 * (server-side apply, forced for the fields it owns); one that matches is not
 * touched, so a pass that finds nothing to change writes nothing.
 *
 * @module
 */
import type { Secret } from "kubernetes-types/core/v1.d.ts";
import { Reason } from "../api/conditions.ts";
import { fieldManager, objectNames, type Redis } from "../api/redis.ts";
import { keepClaimTemplates } from "../decide/claim_templates.ts";
import { keepReplicableImage } from "../decide/image_change.ts";
import type { Problem } from "../decide/status.ts";
import type { StoredPasswords } from "../decide/password.ts";
import { matchesDesired, stampApplied } from "../decide/drift.ts";
import { unlessNotFound } from "../kube/client.ts";
import { buildConfigMap } from "../specs/config_map.ts";
import {
  addressFamily,
  buildMasterEndpointSlice,
  foreignMasterSlices,
} from "../specs/master_endpoints.ts";
import { buildNetworkPolicy } from "../specs/network_policy.ts";
import { buildPodDisruptionBudget } from "../specs/pdb.ts";
import { buildSecret, storedPasswords } from "../specs/secret.ts";
import { buildServices } from "../specs/services.ts";
import { buildStatefulSet } from "../specs/stateful_set.ts";
import type { ReconcileDeps } from "./deps.ts";
import { redisPods } from "./observe.ts";

/** Thrown when an object cannot be applied; the reconciler reports it. */
export class ApplyError extends Error {
  override name = "ApplyError";
}

/**
 * Applies the ConfigMap if it differs; true when it wrote. With `specRefused`
 * (the operator refuses the spec: api/validation.ts), only the master address
 * is kept current (restarting pods read it), and redis.conf stays as it was.
 */
export async function syncConfigMap(
  deps: ReconcileDeps,
  redis: Redis,
  masterIP: string,
  specRefused: boolean,
): Promise<boolean> {
  const desired = buildConfigMap(redis, masterIP);
  const current = deps.caches.configMaps.get(
    redis.metadata?.namespace ?? "",
    desired.metadata!.name!,
  );
  if (specRefused) {
    if (!current || current.data?.master === masterIP) return false;
    return await applyIfDrifted(
      "ConfigMap",
      desired,
      undefined,
      (ns, body) =>
        deps.apis.configMaps.patch(ns, body.metadata!.name!, { data: { master: masterIP } }),
    );
  }
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

/** What {@linkcode syncOwnedObjects} did: the objects it wrote and what it could not do. */
export interface SyncOutcome {
  readonly written: string[];
  readonly problems: Problem[];
}

/**
 * Applies every owned object except the ConfigMap, each on its own: one that
 * cannot be applied is a problem to report, and the others (and the rest of
 * the pass: observing Redis, failing over) go on.
 */
export async function syncOwnedObjects(
  deps: ReconcileDeps,
  redis: Redis,
  secret: SecretState | undefined,
  replicas: number,
  /** Services another Redis has under the same names (decide/name_conflicts.ts). */
  servicesLeftAlone: ReadonlySet<string> = new Set(),
): Promise<SyncOutcome> {
  const ns = redis.metadata?.namespace ?? "";
  const opts = { fieldManager, force: true };
  const written: string[] = [];
  const problems: Problem[] = [];
  const sync = async <T extends { metadata?: { name?: string } }>(
    kind: string,
    desired: T,
    current: T | undefined,
    applyObject: (namespace: string, body: T) => Promise<unknown>,
  ) => {
    try {
      if (await applyIfDrifted(kind, desired, current, applyObject)) {
        written.push(`${kind}/${desired.metadata?.name}`);
      }
    } catch (error) {
      if (!(error instanceof ApplyError)) throw error;
      problems.push({ reason: Reason.ApplyFailed, message: error.message });
    }
  };
  if (secret) {
    // Compared by what it holds too: a key the copy must lose (no password) is no drift
    // to matchesDesired, which only looks at what the desired object says.
    const same = secret.current &&
      JSON.stringify(storedPasswords(secret.current)) === JSON.stringify(secret.passwords);
    await sync(
      "Secret",
      buildSecret(redis, secret.passwords),
      same ? secret.current : undefined,
      (n, body) => deps.apis.secrets.apply(n, body, opts),
    );
  }
  for (const desired of buildServices(redis)) {
    if (servicesLeftAlone.has(desired.metadata!.name!)) continue;
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
  const name = objectNames(redis.metadata?.name ?? "").base;
  const currentSet = deps.caches.statefulSets.get(ns, name);
  const claims = keepClaimTemplates(buildStatefulSet(redis, replicas), currentSet);
  if (claims.refused) {
    problems.push({ reason: Reason.StorageChangeRefused, message: claims.refused });
  }
  const { statefulSet, refused } = keepReplicableImage(claims.statefulSet, currentSet);
  if (refused) problems.push({ reason: Reason.ImageChangeRefused, message: refused });
  const policy = buildNetworkPolicy(redis, deps.operatorNamespace);
  const currentPolicy = deps.caches.networkPolicies.get(ns, name);
  if (policy) {
    await sync(
      "NetworkPolicy",
      policy,
      currentPolicy,
      (n, body) => deps.apis.networkPolicies.apply(n, body, opts),
    );
  } else if (currentPolicy?.metadata?.ownerReferences?.some((r) => r.uid === redis.metadata?.uid)) {
    // spec.networkPolicy was removed: so is the policy (ours only, by owner).
    await sync(
      "NetworkPolicy",
      currentPolicy,
      undefined,
      (n, body) =>
        unlessNotFound(
          deps.apis.networkPolicies.delete(n, body.metadata!.name!, {
            // Only the policy seen as ours: one made meanwhile under the name is another object.
            ...(body.metadata?.uid ? { preconditions: { uid: body.metadata.uid } } : {}),
          }),
        ),
    );
  }
  await sync(
    "StatefulSet",
    statefulSet,
    currentSet,
    (n, body) => deps.apis.statefulSets.apply(n, body, opts),
  );
  return { written, problems };
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
  replaced = false,
): Promise<boolean> {
  const ns = redis.metadata?.namespace ?? "";
  // The pod must still have the master's address: a pod recreated under the same name has
  // another, and the old one may already be someone else's.
  const pod = master &&
    redisPods(deps, redis).find((p) =>
      p.metadata?.name === master.pod && p.status?.podIP === master.ip
    );
  const names = objectNames(redis.metadata?.name ?? "");
  const current = deps.caches.endpointSlices.get(ns, names.master);
  // The family of the master's address; without one, the slice's or the Service's.
  const family = master ? addressFamily(master.ip) : current?.addressType === "IPv6" ||
      deps.caches.services.get(ns, names.master)?.spec?.ipFamilies?.[0] === "IPv6"
    ? "IPv6"
    : "IPv4";
  const desired = buildMasterEndpointSlice(redis, pod && { pod, ip: master.ip }, family);
  let wrote = false;
  if (current && current.addressType !== family && !replaced) {
    // The address type of a slice cannot change: a new one replaces it.
    await unlessNotFound(deps.apis.endpointSlices.delete(ns, names.master));
    return await syncMasterEndpoints(deps, redis, master, true);
  }
  for (const foreign of foreignMasterSlices(redis, deps.caches.endpointSlices.list(ns))) {
    await unlessNotFound(deps.apis.endpointSlices.delete(ns, foreign.metadata!.name!));
    wrote = true;
  }
  // No master this pass: the slice stays on the recorded master while its pod is there with
  // that address (it may only be slow to answer); once the pod is gone or has another
  // address, the Service must not send clients to an address another pod may reuse.
  const live = replaced ? undefined : current;
  if (live && !pod && recordedMasterStillThere(deps, redis)) return wrote;
  return await applyIfDrifted(
    "EndpointSlice",
    desired,
    live,
    (n, body) => deps.apis.endpointSlices.apply(n, body, { fieldManager, force: true }),
  ) || wrote;
}

/** Is the pod the status names as master still there, with the recorded address? */
function recordedMasterStillThere(deps: ReconcileDeps, redis: Redis): boolean {
  const pod = redisPods(deps, redis).find((p) => p.metadata?.name === redis.status?.master);
  return pod !== undefined && pod.status?.podIP === redis.status?.masterIP &&
    pod.status?.phase === "Running";
}

/** Applies `desired` unless `current` already says everything it says; true when it wrote. */
async function applyIfDrifted<
  T extends {
    metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  },
>(
  kind: string,
  desired: T,
  current: T | undefined,
  applyObject: (namespace: string, body: T) => Promise<unknown>,
): Promise<boolean> {
  const stamped = stampApplied(desired);
  if (current && matchesDesired(stamped, current)) return false;
  try {
    await applyObject(stamped.metadata?.namespace ?? "", stamped);
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
