/**
 * One reconcile pass for one Redis: observe (objects from the caches, INFO
 * from every ready pod) → decide (pure) → act (carry_out.ts) → record
 * (status, labels, Events: record.ts) → say when to look again. The one
 * module that joins decisions and effects; it works from current state,
 * never from the event that woke it.
 *
 * @module
 */
import { servesStaleData } from "../api/config_values.ts";
import type { Pod, Secret } from "kubernetes-types/core/v1.d.ts";
import type { ObjectMeta } from "kubernetes-types/meta/v1.d.ts";
import { Reason } from "../api/conditions.ts";
import {
  failoverSettings,
  keepsDataOnVolumes,
  labels,
  objectNames,
  type Redis,
  type Role,
  tlsFiles,
} from "../api/redis.ts";
import {
  candidatePasswords,
  decidePasswordRotation,
  initialPasswords,
} from "../decide/password.ts";
import { decideFencingRepairs, wantedFencing } from "../decide/fencing.ts";
import { decideParking, parkingAddress } from "../decide/parking.ts";
import { decideServeStaleRestores } from "../decide/stale_reads.ts";
import { nodeLossProblem } from "../decide/node_loss.ts";
import {
  pendingSwitchover,
  switchoverAnnotation,
  switchoverRefusal,
  switchoverRequest,
  switchoverServed,
} from "../decide/switchover.ts";
import { masterNameStanding } from "../sentinel/view.ts";
import { specProblems } from "../api/validation.ts";
import { nameConflict } from "../decide/name_conflicts.ts";
import { maxmemoryProblem } from "../decide/memory_limit.ts";
import { decideReplication, readHoldMs, type RecordedMaster } from "../decide/replication.ts";
import type { Problem } from "../decide/status.ts";
import { decodeBase64Text } from "../text/base64.ts";
import { isConflict, isNotFound, unlessNotFound } from "../kube/client.ts";
import { storedPasswords } from "../specs/secret.ts";
import type { Credential, RedisNode } from "../redis/client.ts";
import { noLongerLeading, type ReconcileDeps } from "./deps.ts";
import { type ObservedInstance, observeInstances, redisPods } from "./observe.ts";
import { carryOut } from "./carry_out.ts";
import { rotatePassword } from "./password_rotation.ts";
import { enterStage, watchedPass } from "./pass_stage.ts";
import { forgetAcl, syncAcl } from "./acl_users.ts";
import { type AclPass, prepareAcl } from "./acl_secret_state.ts";
import { holdReads, readHoldsLeft } from "./read_holds.ts";
import { settleClientsLater } from "./settle_clients.ts";
import { forgetReach, readReach, tlsReloadDue } from "./reach.ts";
import { recordRedisGauges } from "../observe/redis_gauges.ts";
import { event, report } from "./record.ts";
import { replaceIdleOutdatedPod, rollOneReplica, updateRevision } from "./replace_pods.ts";
import { tryApply } from "./try_apply.ts";
import { describeError } from "../text/describe_error.ts";
import {
  readOwnSecret,
  syncConfigMap,
  syncMasterEndpoints,
  syncOwnedObjects,
  writeOwnSecret,
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
    if (redis?.metadata?.uid) {
      forgetReach(redis.metadata.uid);
      forgetAcl(redis.metadata.uid);
    }
    deps.metrics.forgetRedis({ namespace, name });
    return {};
  }
  try {
    return await watchedPass(key, deps.log, () => reconcileExisting(deps, redis));
  } catch (error) {
    // Another writer (or our own last write, not yet in the cache) moved the Redis on:
    // look again from the newer version instead of acting on the stale one.
    if (!isConflict(error)) throw error;
    deps.log.with({ namespace, name }).debug("status changed meanwhile, looking again");
    return { requeueAfterMs: 50 };
  }
}

/**
 * One pass. Problems with the objects (a refused spec, a missing Secret, an
 * apply the API server refuses) are reported, never the end of the pass:
 * observing Redis and keeping one writable master do not depend on them.
 */
async function reconcileExisting(deps: ReconcileDeps, redis: Redis): Promise<WorkResult> {
  const namespace = redis.metadata!.namespace!;
  const name = redis.metadata!.name!;
  const key = `${namespace}/${name}`;
  const log = deps.log.with({ namespace, name });
  const problems: Problem[] = [];
  const invalid = specProblems(redis);
  if (invalid.length) problems.push({ reason: Reason.InvalidSpec, message: invalid.join("; ") });
  // Services another Redis of the namespace came first to are left to it; all else goes on.
  const conflict = nameConflict(redis, deps.caches.redis.all());
  if (conflict) problems.push({ reason: Reason.NameConflict, message: conflict.message });
  const leftAlone = new Set(conflict?.services ?? []);
  // Reported, but it holds up neither rollouts nor readiness: replication is unaffected.
  const names = masterNameStanding(redis, deps.caches.redis.all());
  const advisories: Problem[] = names.conflict
    ? [{ reason: Reason.SentinelNameConflict, message: names.conflict }]
    : [];
  const memory = maxmemoryProblem(
    redis.spec?.config,
    redis.spec?.redis?.resources?.limits?.memory as string | number | undefined,
  );
  if (memory) advisories.push({ reason: Reason.MaxmemoryMismatch, message: memory });
  const request = switchoverRequest(redis);
  const switchover = pendingSwitchover(redis);

  // undefined: the user's Secret cannot be read, so the password is not known this pass.
  enterStage(key, "read the password Secret");
  const userPassword = await readPassword(deps, redis);
  const wanted = typeof userPassword === "object" ? undefined : userPassword;
  if (typeof userPassword === "object") problems.push(userPassword);

  // A scale-down that would remove the master's pod waits until the master has moved.
  const desired = redis.spec?.replicas ?? 3;
  const masterOrdinal = Number(redis.status?.master?.match(/-(\d+)$/)?.[1] ?? -1);
  const statefulSetReplicas = Math.max(desired, masterOrdinal + 1);
  // The operator's copy of the password is what pods start with; it moves to a new
  // password (or to none) only step by step (decide/password.ts).
  // A copy that cannot be read (the API server failed us) is neither used nor rewritten.
  let ownSecret: Secret | undefined;
  let copyUnknown = false;
  try {
    enterStage(key, "read the password copy");
    ownSecret = await readOwnSecret(deps, redis);
  } catch (error) {
    copyUnknown = true;
    problems.push({
      reason: Reason.SecretUnreadable,
      message: `Cannot read Secret ${objectNames(name).base}: ${describeError(error)}`,
    });
  }
  const foreignSecret = ownSecret !== undefined && !ownedBy(ownSecret, redis);
  if (foreignSecret) {
    problems.push({
      reason: Reason.SecretConflict,
      message: `Secret ${
        objectNames(name).base
      } exists and does not belong to this Redis: the operator keeps its own copy of the password there and will not overwrite it; rename or delete it`,
    });
  }
  const copy = foreignSecret ? undefined : storedPasswords(ownSecret);
  const podsExist = redisPods(deps, redis).length > 0 ||
    deps.caches.statefulSets.get(namespace, objectNames(name).base) !== undefined;
  let stored = wanted === undefined || copyUnknown
    ? copy
    : initialPasswords(wanted, copy, podsExist);
  const secret = stored && (ownSecret || stored.password !== "" || stored.previous !== undefined)
    ? { passwords: stored, current: ownSecret }
    : undefined;
  // Before any pod starts: with spec.acl, pods start with its users (acl_users.ts).
  enterStage(key, "read the ACL Secret");
  const acl = await prepareAcl(deps, redis, {
    podsExist,
    passwordSecret: foreignSecret ? undefined : ownSecret,
    passwordSecretForeign: foreignSecret,
    passwordSecretUnreadable: copyUnknown,
  });
  problems.push(...acl.problems);
  // A new Redis whose password (or, with spec.acl, whose users) cannot be read yet gets no
  // pods: they would start without them.
  const waitForPassword = ((wanted === undefined || copyUnknown) && copy === undefined ||
    redis.spec?.acl !== undefined && acl.data?.startup === undefined) && !podsExist;
  if (!invalid.length && !foreignSecret && !waitForPassword) {
    enterStage(key, "apply the owned objects");
    const { written, problems: applyProblems } = await syncOwnedObjects(
      deps,
      redis,
      wanted === undefined || copyUnknown ? undefined : secret,
      statefulSetReplicas,
      leftAlone,
    );
    problems.push(...applyProblems);
    if (written.length) log.info("objects applied", { objects: written });
  }
  // Before the plan, keep the master address the ConfigMap already records: the cached
  // status may predate our last change of master, and a restarting pod reads this key.
  const recorded = deps.caches.configMaps.get(namespace, objectNames(name).base)?.data?.master;
  problems.push(
    ...await tryApply(() =>
      syncConfigMap(deps, redis, recorded ?? redis.status?.masterIP ?? "", invalid.length > 0)
    ),
  );

  const settings = failoverSettings(redis);
  const monitor = deps.monitors.get(`${namespace}/${name}`);
  enterStage(key, "read the TLS Secret");
  const { reach, problem: tlsProblem } = await readReach(deps, redis);
  if (tlsProblem) problems.push(tlsProblem);
  if (!reach) {
    // TLS without a CA ever read: the instances cannot be reached, so nothing is decided
    // about them (an unreachable master must not read as a lost one). Reported and retried.
    const reported = combine(problems);
    await report(deps, redis, { plan: undefined, observed: [], problem: reported });
    log.warn("replication problem", { reason: reported?.reason, message: reported?.message });
    return { requeueAfterMs: busyRecheckMs };
  }
  enterStage(key, "observe the instances");
  const observed = await observeInstances(
    deps,
    redis,
    operatorCredentials(redis, acl, candidatePasswords(wanted, stored)),
    monitor,
    updateRevision(deps, redis),
    reach,
  );
  const locked = observed.filter((o) => o.authFailed).map((o) => o.observation.pod);
  if (locked.length) {
    problems.push({
      reason: Reason.AuthFailed,
      message: `Redis on ${
        locked.join(", ")
      } refused every password the operator knows (the user's Secret, the operator's copy and its own ACL user's): it cannot be observed or failed over; restore the password it runs with`,
    });
  }
  if (!copy && !copyUnknown && podsExist && wanted && !foreignSecret) {
    // The copy is gone (deleted by hand, pruned) while pods run: what they accept says
    // what it held. Written back at once, so a pod restarting now starts with it.
    const accepted = observed.flatMap((o) =>
      o.credential === undefined || o.credential.user ? [] : [o.credential.password]
    );
    if (accepted.length && accepted.every((p) => p === wanted)) {
      stored = { password: wanted };
      problems.push(...await tryApply(() => writeOwnSecret(deps, redis, { password: wanted })));
    }
  }
  // Every running pod is watched, ready or not: its answers decide whether it is lost.
  monitor.sync(
    observed.map((o) => o.observation.ip).filter((ip) => ip !== ""),
    reach.port,
    settings.detectionWindowMs,
    reach.tls,
  );
  try {
    const recordedMaster = {
      ...(redis.status?.master ? { pod: redis.status.master } : {}),
      ...(redis.status?.masterIP ? { ip: redis.status.masterIP } : {}),
    };
    const plan = decideReplication(observed.map((o) => o.observation), recordedMaster, {
      ...settings,
      ...(keepsDataOnVolumes(redis, liveDataVolume(deps, redis)) ? { persistent: true } : {}),
      desiredReplicas: desired,
      ...(switchover ? { switchover } : {}),
      readHolds: readHoldsLeft(key, Date.now()),
    });
    if (plan.kind === "Wait") log.debug("waiting", { message: plan.message });
    enterStage(key, "carry out the plan");
    const { master, problem, resourceVersion, readHold } = await carryOut(
      deps,
      redis,
      plan,
      observed,
    );
    // No longer the leader: the rest of the pass (the Service, fencing, parking, passwords)
    // is the next leader's to do.
    if (noLongerLeading(deps)) return {};
    if (problem) problems.push(problem);
    // The Service first: clients wait on it; labels and the ConfigMap only inform.
    enterStage(key, "write the master EndpointSlice");
    // Its master slice would join the other Redis's Service of that name.
    if (!leftAlone.has(objectNames(name).master)) {
      problems.push(...await tryApply(() => syncMasterEndpoints(deps, redis, master)));
    }
    // The hold counts from the Service's move: kube-proxy's delay starts there.
    if (readHold) holdReads(key, readHold, Date.now(), readHoldMs);
    if (master && redis.status?.masterIP && master.ip !== redis.status.masterIP) {
      // A new master: send the clients that kube-proxy's last second put on a replica
      // back through the Service once it has moved (settle_clients.ts).
      settleClientsLater(
        deps,
        key,
        observed
          .filter((o) => o.observation.ip && o.observation.ip !== master.ip)
          .map((o) => ({ ip: o.observation.ip, credential: o.credential })),
        reach,
      );
    }
    if (master) {
      const applied = await Promise.all([
        tryApply(() => syncConfigMap(deps, redis, master.ip, invalid.length > 0)),
        tryApply(() => labelPods(deps, redis, master.pod)),
      ]);
      problems.push(...applied.flat());
    }
    enterStage(key, "repair fencing");
    problems.push(...await repairFencing(deps, redis, observed, master?.pod));
    problems.push(...await restoreServeStale(redis, observed, master?.ip));
    if (tlsReloadDue(redis, Date.now())) {
      // A renewed certificate reaches the pods' files some time after the Secret changes.
      const pods = observed.filter((o) => o.node).map((o) => o.observation.pod);
      const { problems: refused } = await onEach(
        observed,
        pods,
        "to load its TLS certificate files",
        (node) => node.reloadTls(tlsFiles.cert),
      );
      problems.push(...refused);
    }
    if (plan.kind === "Wait") {
      problems.push(...await parkReplicas(deps, redis, observed, recordedMaster));
    }
    // A change of password goes a step further only while replication is healthy and
    // the user's Secret can be read; a Redis refusing it is a problem like any other.
    const rotation = plan.kind === "Healthy" && wanted !== undefined && stored && !foreignSecret
      ? await rotatePassword(deps, redis, decidePasswordRotation(wanted, stored), observed)
      : { kind: "Idle" as const };
    if (rotation.kind === "Failed") problems.push(rotation.problem);
    // After everything else: undoing spec.acl may close the connections it used.
    enterStage(key, "sync ACL users");
    const aclSync = await syncAcl(deps, redis, observed, acl, {
      masterPod: master?.pod,
      defaultPassword: stored?.password,
      rotating: stored?.previous !== undefined ||
        (wanted !== undefined && stored !== undefined && wanted !== stored.password),
      specRefused: invalid.length > 0,
    });
    advisories.push(...aclSync.problems, ...aclSync.advisory);
    if (aclSync.changed.length) {
      await event(
        deps,
        redis,
        "Normal",
        Reason.ACLUsersApplied,
        `ACL users brought in line with spec.acl on ${aclSync.changed.join(", ")}`,
      );
    }
    // Last: a more specific problem of this pass names the Degraded reason first.
    const nodeLoss = nodeLossProblem(
      redisPods(deps, redis),
      (node) => deps.caches.nodes.get("", node),
    );
    if (nodeLoss) problems.push(nodeLoss);
    enterStage(key, "replace idle pods");
    const troubles = await replaceIdleOutdatedPod(deps, redis, master?.pod, plan, observed);
    problems.push(...troubles.problems);
    const reported = combine(problems);
    enterStage(key, "write the status");
    const status = await report(deps, redis, {
      plan,
      observed,
      master,
      problem: reported,
      advisory: combine([
        ...advisories,
        // Reported, never a reason to hold replication: a crash-looping pod already keeps
        // the Redis from Ready, and one that fails its probe may still replicate.
        ...troubles.advisory,
        ...switchoverProblem(redis, request, plan, observed, master?.pod, desired),
      ]),
      sentinelMasterName: names.served,
      resourceVersion,
    });
    await clearServedSwitchover(deps, redis, master?.pod);
    const ready = status.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    // Not once leadership is lost: a follower's gauges would outlive this pass (main.ts).
    if (!deps.signal?.aborted) {
      recordRedisGauges(deps.metrics, redis, status, observed.map((o) => o.observation));
    }
    if (rotation.kind === "Stepped") {
      await event(deps, redis, "Normal", rotation.reason, rotation.message);
      log.info("password rotation", { step: rotation.reason });
      return { requeueAfterMs: busyRecheckMs };
    }
    if (rotation.kind === "Waiting") log.debug("waiting", { message: rotation.message });
    if (troubles.replaced) return { requeueAfterMs: busyRecheckMs };
    if (ready && plan.kind === "Healthy" && !reported) {
      if (await rollOneReplica(deps, redis, observed)) return { requeueAfterMs: busyRecheckMs };
    }
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

/**
 * The credentials to try, in order: with spec.acl the operator's own user
 * first; without it, the default user's passwords first, and the operator's
 * user after them for instances that still carry spec.acl's users.
 */
function operatorCredentials(
  redis: Redis,
  acl: AclPass,
  passwords: readonly string[],
): Credential[] {
  const defaults = passwords.map((password) => ({ password }));
  const own = acl.operatorCredential ? [acl.operatorCredential] : [];
  return redis.spec?.acl ? [...own, ...defaults] : [...defaults, ...own];
}

/** One problem for the status: the first one's reason, every message. */
function combine(problems: readonly Problem[]): Problem | undefined {
  if (problems.length <= 1) return problems[0];
  return { reason: problems[0]!.reason, message: problems.map((p) => p.message).join("; ") };
}

/**
 * A switchover to a named pod that cannot be carried out now: reported (it
 * holds nothing up), and tried again every pass, so a replica that catches up
 * takes over then.
 */
function switchoverProblem(
  redis: Redis,
  request: ReturnType<typeof switchoverRequest>,
  plan: { readonly kind: string },
  observed: readonly ObservedInstance[],
  masterPod: string | undefined,
  desired: number,
): Problem[] {
  if (request.kind !== "to" || plan.kind !== "Healthy") return [];
  const refusal = switchoverRefusal(
    observed.map((o) => o.observation),
    masterPod ?? redis.status?.master,
    request.pod,
    desired,
  );
  return refusal
    ? [{
      reason: Reason.SwitchoverRefused,
      message:
        `the switchover to ${request.pod} (annotation ${switchoverAnnotation}) waits: ${refusal}`,
    }]
    : [];
}

/**
 * Removes a pod-name switchover request once that pod is the master: left in
 * place, it would pull the master back after a later failover.
 */
async function clearServedSwitchover(
  deps: ReconcileDeps,
  redis: Redis,
  masterPod: string | undefined,
): Promise<void> {
  if (!switchoverServed(redis, masterPod) || deps.signal?.aborted) return;
  const path = `/metadata/annotations/${switchoverAnnotation.replaceAll("/", "~1")}`;
  const served = redis.metadata?.annotations?.[switchoverAnnotation];
  try {
    // Only if it still names the pod served: a request the user wrote meanwhile stays.
    await deps.apis.redis.patch(redis.metadata!.namespace!, redis.metadata!.name!, [
      { op: "test", path, value: served },
      { op: "remove", path },
    ], { type: "json" });
  } catch (error) {
    // The next pass tries again (a newer request makes the test fail: it is kept).
    deps.log.warn("cannot remove a served switchover request", { error: String(error) });
  }
}

/** Whether the live StatefulSet gives pods a data volume; undefined before it exists. */
function liveDataVolume(deps: ReconcileDeps, redis: Redis): boolean | undefined {
  const set = deps.caches.statefulSets.get(
    redis.metadata?.namespace ?? "",
    objectNames(redis.metadata?.name ?? "").base,
  );
  return set
    ? (set.spec?.volumeClaimTemplates ?? []).some((t) => t.metadata?.name === "data")
    : undefined;
}

/** Is `object` controlled by this Redis (its ownerReference carries the Redis's uid)? */
function ownedBy(object: { metadata?: ObjectMeta }, redis: Redis): boolean {
  return object.metadata?.ownerReferences?.some((r) => r.uid === redis.metadata?.uid) ?? false;
}

/**
 * While no failover can happen, points replicas away from the address of a
 * master whose pod is gone (decide/parking.ts): nothing else may take it over.
 */
export async function parkReplicas(
  deps: ReconcileDeps,
  redis: Redis,
  observed: readonly ObservedInstance[],
  recorded: RecordedMaster,
): Promise<Problem[]> {
  const pods = decideParking(observed.map((o) => o.observation), recorded);
  const { done, problems } = await onEach(
    observed,
    pods,
    "REPLICAOF",
    (node) => node.replicaOf(parkingAddress.host, parkingAddress.port),
  );
  if (done.length) {
    await event(
      deps,
      redis,
      "Warning",
      Reason.ReplicaParked,
      `Pointed ${
        done.join(", ")
      } away from ${recorded.ip}, the address of lost master ${recorded.pod} whose pod is gone: a replica must never copy whatever takes that address next`,
    );
  }
  return problems;
}

/**
 * Gives replicas in sync with `masterIp` the spec's `replica-serve-stale-data`
 * again, which every REPLICAOF turns off until the first sync
 * (decide/stale_reads.ts).
 */
async function restoreServeStale(
  redis: Redis,
  observed: readonly ObservedInstance[],
  masterIp: string | undefined,
): Promise<Problem[]> {
  const wanted = servesStaleData(redis.spec?.config);
  const pods = decideServeStaleRestores(observed.map((o) => o.observation), wanted, masterIp);
  const { problems } = await onEach(
    observed,
    pods,
    `to set replica-serve-stale-data ${wanted ? "yes" : "no"}`,
    (node) => node.setServeStaleData(wanted),
  );
  return problems;
}

/**
 * Puts the spec's fencing back on every instance whose live settings differ
 * (a handover interrupted between fence and swap, a lift that failed, a
 * changed spec.failover). Runs after the plan: a handover in this pass sets
 * and lifts its own fence.
 */
async function repairFencing(
  deps: ReconcileDeps,
  redis: Redis,
  observed: readonly ObservedInstance[],
  master: string | undefined,
): Promise<Problem[]> {
  const observations = observed.map((o) => o.observation);
  const wanted = wantedFencing(redis, observations);
  const pods = decideFencingRepairs(observations, wanted, master);
  const { done, problems } = await onEach(
    observed,
    pods,
    "to restore fencing",
    (node) => node.setFencing(wanted),
  );
  if (done.length) {
    await event(
      deps,
      redis,
      "Normal",
      Reason.FencingRepaired,
      `Set min-replicas-to-write ${wanted.minReplicasToWrite}, min-replicas-max-lag ${wanted.minReplicasMaxLagSeconds} on ${
        done.join(", ")
      }, which differed from the spec`,
    );
  }
  return problems;
}

/** Runs `command` on the instances of `pods`; a refusal is a problem, the others go on. */
async function onEach(
  observed: readonly ObservedInstance[],
  pods: readonly string[],
  what: string,
  command: (node: RedisNode) => Promise<void>,
): Promise<{ done: string[]; problems: Problem[] }> {
  const failures: string[] = [];
  const done: string[] = [];
  await Promise.all(pods.map(async (pod) => {
    const node = observed.find((o) => o.observation.pod === pod)?.node;
    if (!node) return;
    try {
      await command(node);
      done.push(pod);
    } catch (error) {
      failures.push(`${pod}: ${describeError(error)}`);
    }
  }));
  const problems = failures.length
    ? [{
      reason: Reason.RedisCommandFailed,
      // Sorted: the same failures make the same message, so the status is not rewritten.
      message: `Redis refused ${what}: ${failures.sort().join("; ")}`,
    }]
    : [];
  return { done: done.sort(), problems };
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

/** Reads the password from the user's Secret (`""` without spec.password), or says what is wrong. */
async function readPassword(deps: ReconcileDeps, redis: Redis): Promise<string | Problem> {
  const ref = redis.spec?.password?.secretKeyRef;
  if (!ref) return "";
  try {
    const secret = await deps.apis.secrets.get(redis.metadata!.namespace!, ref.name);
    const value = secret.data?.[ref.key];
    if (value === undefined) {
      return {
        reason: Reason.SecretKeyNotFound,
        message: `Secret ${ref.name} has no key ${ref.key} (spec.password.secretKeyRef)`,
      };
    }
    const password = decodeBase64Text(value);
    if (password === "") {
      return {
        reason: Reason.SecretKeyNotFound,
        message:
          `Secret ${ref.name} key ${ref.key} is empty (spec.password.secretKeyRef); remove spec.password for no password`,
      };
    }
    if (/[\r\n\0]/.test(password)) {
      // Redis reads passwords from a config line: a line break would cut it, and Redis would
      // quote the rest in its error (which reaches the status and Events).
      return {
        reason: Reason.PasswordInvalid,
        message:
          `Secret ${ref.name} key ${ref.key} holds a line break or NUL, which a Redis password cannot: the operator keeps the password it has`,
      };
    }
    return password;
  } catch (error) {
    if (!isNotFound(error)) {
      // The API server failed us: the pass goes on with the passwords the copy records.
      return {
        reason: Reason.SecretUnreadable,
        message: `Cannot read Secret ${ref.name} (spec.password.secretKeyRef): ${
          describeError(error)
        }`,
      };
    }
    return {
      reason: Reason.SecretNotFound,
      message: `Secret ${ref.name} not found (spec.password.secretKeyRef)`,
    };
  }
}
