/**
 * One reconcile pass for one Redis: observe (objects from the caches, INFO
 * from every ready pod) → decide (pure) → act (carry_out.ts) → record
 * (status, labels, Events: record.ts) → say when to look again. The one
 * module that joins decisions and effects; it works from current state,
 * never from the event that woke it.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { Reason } from "../api/conditions.ts";
import {
  failoverSettings,
  labels,
  objectNames,
  type Redis,
  redisPort,
  type Role,
} from "../api/redis.ts";
import { candidatePasswords, decidePasswordRotation } from "../decide/password.ts";
import { decideReplication } from "../decide/replication.ts";
import type { Problem } from "../decide/status.ts";
import { decodeBase64Text } from "../kube/base64.ts";
import { isNotFound, unlessNotFound } from "../kube/client.ts";
import { storedPasswords } from "../specs/secret.ts";
import type { ReconcileDeps } from "./deps.ts";
import { type ObservedInstance, observeInstances, redisPods } from "./observe.ts";
import { carryOut } from "./carry_out.ts";
import { rotatePassword } from "./password_rotation.ts";
import { event, report } from "./record.ts";
import {
  ApplyError,
  readOwnSecret,
  syncConfigMap,
  syncMasterEndpoints,
  syncOwnedObjects,
} from "./sync_objects.ts";
import type { WorkResult } from "./work_queue.ts";

/** How soon to look again when everything is fine, and while work is under way. */
const healthyRecheckMs = 5000;
const busyRecheckMs = 1000;

/** Reconciles the Redis `namespace/name`. */
export async function reconcileRedis(deps: ReconcileDeps, key: string): Promise<WorkResult> {
  const [namespace, name] = key.split("/") as [string, string];
  const redis = deps.caches.redis.get(namespace, name);
  if (!redis || redis.metadata?.deletionTimestamp) {
    deps.monitors.forget(key);
    return {};
  }
  const log = deps.log.with({ namespace, name });

  const password = await readPassword(deps, redis);
  if (typeof password === "object") {
    await report(deps, redis, { plan: undefined, observed: [], problem: password });
    return { requeueAfterMs: 10_000 };
  }

  // A scale-down that would remove the master's pod waits until the master has moved.
  const desired = redis.spec?.replicas ?? 3;
  const masterOrdinal = Number(redis.status?.master?.match(/-(\d+)$/)?.[1] ?? -1);
  const statefulSetReplicas = Math.max(desired, masterOrdinal + 1);
  // The operator's copy of the password is what pods start with; it moves to a new
  // password only step by step (decide/password.ts). It is read even without
  // spec.password: instances started with one keep it, and must still be reachable.
  const ownSecret = await readOwnSecret(deps, redis);
  const stored = storedPasswords(ownSecret);
  const secret = password === undefined
    ? undefined
    : { passwords: stored ?? { password }, current: ownSecret };
  try {
    const written = await syncOwnedObjects(deps, redis, secret, statefulSetReplicas);
    // Before the plan, keep the master address the ConfigMap already records: the cached
    // status may predate our last change of master, and a restarting pod reads this key.
    const recorded = deps.caches.configMaps.get(namespace, objectNames(name).base)?.data?.master;
    if (await syncConfigMap(deps, redis, recorded ?? redis.status?.masterIP ?? "")) {
      written.push("ConfigMap");
    }
    if (written.length) log.info("objects applied", { objects: written });
  } catch (error) {
    if (!(error instanceof ApplyError)) throw error;
    const problem = { reason: Reason.ApplyFailed, message: error.message };
    await report(deps, redis, { plan: undefined, observed: [], problem });
    throw error;
  }

  const settings = failoverSettings(redis);
  const monitor = deps.monitors.get(key);
  const observed = await observeInstances(
    deps,
    redis,
    candidatePasswords(password, stored),
    monitor,
    updateRevision(deps, redis),
  );
  monitor.sync(
    observed.filter((o) => o.observation.ready).map((o) => o.observation.ip),
    redisPort,
    settings.detectionWindowMs,
  );
  try {
    const plan = decideReplication(observed.map((o) => o.observation), {
      ...(redis.status?.master ? { pod: redis.status.master } : {}),
      ...(redis.status?.masterIP ? { ip: redis.status.masterIP } : {}),
    }, { ...settings, desiredReplicas: desired });
    if (plan.kind === "Wait") log.debug("waiting", { message: plan.message });
    const { master, problem } = await carryOut(deps, redis, plan, observed);
    // The Service first: clients wait on it; labels and the ConfigMap only inform.
    await syncMasterEndpoints(deps, redis, master);
    if (master) {
      await Promise.all([
        syncConfigMap(deps, redis, master.ip),
        labelPods(deps, redis, master.pod),
      ]);
    }
    // A password rotation goes a step further only while replication is healthy; a Redis
    // refusing it is a problem like any other, in the same status write.
    const rotation = plan.kind === "Healthy"
      ? await rotatePassword(deps, redis, decidePasswordRotation(password, stored), observed)
      : { kind: "Idle" as const };
    const rotationProblem = rotation.kind === "Failed" ? rotation.problem : undefined;
    const status = await report(deps, redis, {
      plan,
      observed,
      master,
      problem: problem ?? rotationProblem,
    });
    const ready = status.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    deps.metrics.connectedInstances.set({ namespace, name }, status.replicas ?? 0);
    if (rotation.kind === "Stepped") {
      await event(deps, redis, "Normal", rotation.reason, rotation.message);
      log.info("password rotation", { step: rotation.reason });
      return { requeueAfterMs: busyRecheckMs };
    }
    if (rotation.kind === "Waiting") log.debug("waiting", { message: rotation.message });
    if (ready && plan.kind === "Healthy" && !rotationProblem) {
      if (await rollOneReplica(deps, redis, observed)) return { requeueAfterMs: busyRecheckMs };
    }
    const reported = problem ?? rotationProblem;
    if (reported) {
      log.warn("replication problem", { reason: reported.reason, message: reported.message });
    }
    const recheck = plan.kind === "Wait" && plan.recheckMs !== undefined
      ? plan.recheckMs
      : busyRecheckMs;
    return { requeueAfterMs: ready && !reported ? healthyRecheckMs : recheck };
  } finally {
    for (const { node } of observed) node?.close();
  }
}

/** The StatefulSet's current template revision, once the controller has seen the latest spec. */
function updateRevision(deps: ReconcileDeps, redis: Redis): string | undefined {
  const set = deps.caches.statefulSets.get(
    redis.metadata!.namespace!,
    objectNames(redis.metadata!.name!).base,
  );
  if (!set?.status?.updateRevision || set.status.observedGeneration !== set.metadata?.generation) {
    return undefined;
  }
  return set.status.updateRevision;
}

/**
 * Operator-driven rolling update (the StatefulSet is OnDelete): while the
 * replication is healthy, replace one outdated replica, highest ordinal
 * first; the next one only once everything is back in sync. The master goes
 * last, after a handover (decided in decideReplication). True when a pod was deleted.
 */
async function rollOneReplica(
  deps: ReconcileDeps,
  redis: Redis,
  observed: readonly ObservedInstance[],
): Promise<boolean> {
  if (observed.some((o) => o.observation.terminating)) return false;
  const outdated =
    observed.filter((o) => o.observation.outdated && o.observation.pod !== redis.status?.master)
      .sort((a, b) => b.observation.ordinal - a.observation.ordinal)[0];
  if (!outdated) return false;
  await deps.apis.pods.delete(redis.metadata!.namespace!, outdated.observation.pod);
  await event(
    deps,
    redis,
    "Normal",
    Reason.RollingUpdate,
    `Replacing replica ${outdated.observation.pod} with the new pod template`,
  );
  return true;
}

/** Sets role=master on the master pod and role=replica on every other pod. */
async function labelPods(deps: ReconcileDeps, redis: Redis, masterPod: string): Promise<void> {
  const patches = redisPods(deps, redis).map((pod: Pod) => {
    const role: Role = pod.metadata?.name === masterPod ? "master" : "replica";
    if (pod.metadata?.labels?.[labels.role] === role) return undefined;
    return unlessNotFound(deps.apis.pods.patch(pod.metadata!.namespace!, pod.metadata!.name!, {
      metadata: { labels: { [labels.role]: role } },
    }));
  });
  await Promise.all(patches);
}

/** Reads the password from the user's Secret, or says what is wrong with it. */
async function readPassword(
  deps: ReconcileDeps,
  redis: Redis,
): Promise<string | undefined | Problem> {
  const ref = redis.spec?.password?.secretKeyRef;
  if (!ref) return undefined;
  try {
    const secret = await deps.apis.secrets.get(redis.metadata!.namespace!, ref.name);
    const value = secret.data?.[ref.key];
    if (value === undefined) {
      return {
        reason: Reason.SecretKeyNotFound,
        message: `Secret ${ref.name} has no key ${ref.key} (spec.password.secretKeyRef)`,
      };
    }
    return decodeBase64Text(value);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return {
      reason: Reason.SecretNotFound,
      message: `Secret ${ref.name} not found (spec.password.secretKeyRef)`,
    };
  }
}
