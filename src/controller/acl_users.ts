/**
 * spec.acl on the instances: every reachable instance is given the users live
 * with `ACL SETUSER`, in rounds that keep replication working, and the lines a
 * restarting pod starts with are recorded once they have them. Runs after the
 * pass has kept one writable master: nothing here delays a failover. The
 * decisions are in decide/acl.ts; the operator's Secret in
 * acl_secret_state.ts.
 *
 * @module
 */
import { Reason } from "../api/conditions.ts";
import { objectNames, type Redis } from "../api/redis.ts";
import {
  aclFingerprint,
  hasAclTraces,
  internalUsers,
  managedUsers,
  operatorUser,
  plainLines,
  replicationUser,
  ruleArguments,
  setUserArguments,
  staleUsers,
  startupLines,
  type WantedAcl,
  type WantedUser,
} from "../decide/acl.ts";
import type { Problem } from "../decide/status.ts";
import { decodeBase64Text } from "../text/base64.ts";
import { isNotFound } from "../kube/client.ts";
import type { RedisNode } from "../redis/client.ts";
import type { AclSecretData } from "../specs/acl_secret.ts";
import {
  type AclPass,
  forgetAclSecret,
  passwordHash,
  sameData,
  writeAclSecret,
} from "./acl_secret_state.ts";
import type { ReconcileDeps } from "./deps.ts";
import { describeError } from "../text/describe_error.ts";
import type { ObservedInstance } from "./observe.ts";

/** What else the pass knows. */
export interface AclSyncContext {
  readonly masterPod: string | undefined;
  /** The default user's password on the instances (`""`: none; undefined: unknown). */
  readonly defaultPassword: string | undefined;
  /** A change of password is under way: without spec.acl it owns `masterauth`. */
  readonly rotating: boolean;
  /** The operator refuses the spec: nothing is changed. */
  readonly specRefused: boolean;
}

/** What a sync did: problems of instances, problems of users, and the instances changed. */
export interface AclSyncOutcome {
  readonly problems: Problem[];
  readonly advisory: Problem[];
  readonly changed: string[];
}

/**
 * What the operator last brought each instance to, by Redis uid and pod: the
 * wanted state with the instance's `ACL LIST` right after, and the users it
 * refused. An instance whose list still reads the same for the same wanted
 * state is not sent anything; a restart, a change by hand or a change of the
 * spec makes it differ. Memory only: after an operator restart every
 * instance is brought there once more, which changes nothing.
 */
const applied = new Map<string, { state: string; refused: Problem[] }>();

/** Forgets what was applied for a Redis that is gone. */
export function forgetAcl(uid: string): void {
  forgetAclSecret(uid);
  for (const key of applied.keys()) if (key.startsWith(`${uid}/`)) applied.delete(key);
}

/**
 * Brings every reachable instance to the wanted ACL state, in three rounds,
 * each on every instance before the next, and none after a round that failed
 * somewhere: users added (and the default user on); the user replicas
 * authenticate as; users dropped (and the default user off). So a replica
 * always authenticates as a user its master already has, and the default user
 * goes only once no replica needs it. Then, once every reachable instance took
 * every round, records the lines a restarting pod starts with.
 */
export async function syncAcl(
  deps: ReconcileDeps,
  redis: Redis,
  observed: readonly ObservedInstance[],
  pass: AclPass,
  context: AclSyncContext,
): Promise<AclSyncOutcome> {
  const none: AclSyncOutcome = { problems: [], advisory: [], changed: [] };
  const data = pass.data;
  // Never had spec.acl (or its Secret is unknown this pass), or the spec is refused.
  if (!data || context.specRefused) return none;
  const { wanted, advisory } = await wantedState(deps, redis, data, context.defaultPassword);
  if (!wanted) return { ...none, advisory };
  const uid = redis.metadata?.uid ?? "";
  const managed = managedUsers(data.users ?? []);
  const signature = JSON.stringify([wanted, [...managed]]);
  const stateOf = (list: readonly string[]) => `${signature}\n${aclFingerprint(list)}`;
  const problems: Problem[] = [];
  const reachable = observed.filter((o) => o.node);
  const lists = new Map<string, string[]>();
  await Promise.all(reachable.map(async (o) => {
    try {
      lists.set(o.observation.pod, await o.node!.aclList());
    } catch (error) {
      problems.push(refusal(o.observation.pod, error));
    }
  }));
  const due = reachable.filter((o) => {
    const list = lists.get(o.observation.pod);
    if (!list) return false;
    const known = applied.get(`${uid}/${o.observation.pod}`);
    if (known?.state === stateOf(list)) {
      advisory.push(...known.refused);
      return false;
    }
    return wanted.kind === "Users" || hasAclTraces(list, managed);
  });

  const refusedBy = new Map<string, Problem[]>();
  const round = async (run: (node: RedisNode, pod: string) => Promise<void>) => {
    if (problems.length) return;
    await Promise.all(due.map(async (o) => {
      try {
        await run(o.node!, o.observation.pod);
      } catch (error) {
        problems.push(refusal(o.observation.pod, error));
      }
    }));
  };
  if (wanted.kind === "Users") {
    await round(async (node, pod) => {
      const refused: Problem[] = [];
      for (const user of wanted.users) {
        try {
          await node.setUser(setUserArguments(user));
        } catch (error) {
          // Only Redis refusing an application user's rules is that user's problem; anything
          // else (a timeout, the operator's own users) is the instance's.
          if (managedUsers([]).has(user.name) || !refusedByRedis(error)) throw error;
          refused.push({
            reason: Reason.ACLRuleInvalid,
            message: `Redis refused the rules of spec.acl.users ${user.name}: ${
              redisMessage(error)
            }`,
          });
        }
      }
      if (wanted.defaultUserOn) await node.setUser(["default", "on"]);
      refusedBy.set(pod, refused);
    });
    await round((node) => node.useMasterUser(replicationUser, wanted.replicationPassword));
  } else {
    await round((node) => node.setUser(["default", "on"]));
    // While a change of password is under way it owns masterauth (password_rotation.ts):
    // only the default user is turned on, which its steps may need; the rest waits.
    if (context.rotating) return { problems: unique(problems), advisory, changed: [] };
    await round((node) => node.useMasterUser("", wanted.masterPassword));
  }
  // Deleting the user a connection is authenticated as closes that connection: the
  // operator's own user goes last, and that instance is not read again this pass.
  const selfDeleted = new Set<string>();
  await round(async (node, pod) => {
    const stale = staleUsers(lists.get(pod) ?? [], wanted, managed);
    const others = stale.filter((user) => user !== operatorUser);
    if (others.length) await node.deleteUsers(others);
    if (wanted.kind === "Users" && !wanted.defaultUserOn) await node.setUser(["default", "off"]);
    if (others.length < stale.length) {
      selfDeleted.add(pod);
      await node.deleteUsers([operatorUser]);
    }
  });

  const changed: string[] = [];
  await Promise.all(due.map(async (o) => {
    const pod = o.observation.pod;
    if (selfDeleted.has(pod)) {
      changed.push(pod);
      lists.delete(pod);
      return;
    }
    try {
      const after = await o.node!.aclList();
      if (aclFingerprint(after) !== aclFingerprint(lists.get(pod) ?? [])) changed.push(pod);
      lists.set(pod, after);
      if (!problems.length) {
        const refused = refusedBy.get(pod) ?? [];
        applied.set(`${uid}/${pod}`, { state: stateOf(after), refused });
        advisory.push(...refused);
      }
    } catch (error) {
      problems.push(refusal(pod, error));
    }
  }));

  if (!problems.length) {
    const synced = [...lists.entries()]
      .sort(([a], [b]) => Number(b === context.masterPod) - Number(a === context.masterPod))
      .map(([, list]) => list)
      .find(hasOperatorUsers);
    const everyPod = observed.length > 0 && observed.every((o) => o.node);
    const { next, problem } = recordAfter(data, wanted, synced, everyPod);
    if (problem) problems.push(problem);
    if (!sameData(next, data)) {
      try {
        await writeAclSecret(deps, redis, next);
      } catch (error) {
        problems.push({
          reason: Reason.ApplyFailed,
          message: `Cannot write Secret ${objectNames(redis.metadata?.name ?? "").acl}: ${
            describeError(error)
          }`,
        });
      }
    }
  }
  return { problems: unique(problems), advisory: unique(advisory), changed: changed.sort() };
}

/**
 * The state every instance should be in: with spec.acl, the operator's users
 * and the application users (one whose password cannot be read is left as it
 * is, and reported); without it, the default user alone, replicas using its
 * password.
 */
async function wantedState(
  deps: ReconcileDeps,
  redis: Redis,
  data: AclSecretData,
  defaultPassword: string | undefined,
): Promise<{ wanted?: WantedAcl; advisory: Problem[] }> {
  const acl = redis.spec?.acl;
  if (!acl) {
    return defaultPassword === undefined
      ? { advisory: [] }
      : { wanted: { kind: "DefaultOnly", masterPassword: defaultPassword }, advisory: [] };
  }
  const specUsers = acl.users ?? [];
  const passwords = await Promise.all(
    specUsers.map((user) =>
      readUserPassword(deps, redis.metadata?.namespace ?? "", user.name, user.password.secretKeyRef)
    ),
  );
  const advisory: Problem[] = [];
  const users: WantedUser[] = [];
  const untouched: string[] = [];
  for (const [i, user] of specUsers.entries()) {
    const password = passwords[i]!;
    if (typeof password === "object") {
      advisory.push(password);
      untouched.push(user.name);
    } else {
      users.push({
        name: user.name,
        passwordHash: passwordHash(password),
        rules: ruleArguments(user.rules),
      });
    }
  }
  return {
    wanted: {
      kind: "Users",
      users: [...internalUsers(data.passwords, passwordHash), ...users],
      untouched,
      defaultUserOn: !acl.disableDefaultUser,
      replicationPassword: data.passwords.replication,
    },
    advisory,
  };
}

/** An application user's password, or what is wrong with its Secret. */
async function readUserPassword(
  deps: ReconcileDeps,
  namespace: string,
  user: string,
  ref: { name: string; key: string },
): Promise<string | Problem> {
  const where = `(spec.acl.users ${user}; the user is left as it is)`;
  try {
    const secret = await deps.apis.secrets.get(namespace, ref.name);
    const value = secret.data?.[ref.key];
    if (value === undefined) {
      return {
        reason: Reason.SecretKeyNotFound,
        message: `Secret ${ref.name} has no key ${ref.key} ${where}`,
      };
    }
    const password = decodeBase64Text(value);
    if (password === "") {
      return {
        reason: Reason.PasswordInvalid,
        message: `Secret ${ref.name} key ${ref.key} is empty ${where}`,
      };
    }
    return password;
  } catch (error) {
    return isNotFound(error)
      ? { reason: Reason.SecretNotFound, message: `Secret ${ref.name} not found ${where}` }
      : {
        reason: Reason.SecretUnreadable,
        message: `Cannot read Secret ${ref.name} ${where}: ${describeError(error)}`,
      };
  }
}

/** Does an `ACL LIST` hold the operator's own users, on? */
function hasOperatorUsers(list: readonly string[]): boolean {
  return [operatorUser, replicationUser].every((user) =>
    list.some((line) => line.startsWith(`user ${user} on `))
  );
}

/**
 * What the Secret records after a sync every reachable instance took: with
 * spec.acl, the start lines from `synced` (an instance's `ACL LIST` with the
 * operator's users, the master's first) and whether the default user is off;
 * without it, neither. And, once `everyPod` answered and the lines are
 * recorded, only the users still wanted: no instance can hold another.
 */
function recordAfter(
  data: AclSecretData,
  wanted: WantedAcl,
  synced: readonly string[] | undefined,
  everyPod: boolean,
): { next: AclSecretData; problem?: Problem } {
  const wantedApps = wanted.kind === "Users"
    ? [
      ...wanted.users.map((u) => u.name).filter((name) => !managedUsers([]).has(name)),
      ...wanted.untouched,
    ]
    : [];
  let startup: string | undefined;
  let problem: Problem | undefined;
  if (wanted.kind === "Users") {
    const lines = synced &&
      startupLines(synced, managedUsers(wantedApps), wanted.replicationPassword);
    if (lines && !plainLines(lines)) {
      problem = {
        reason: Reason.RedisCommandFailed,
        message:
          "ACL users cannot be recorded for restarting pods: an instance lists a user with quotes or escapes; restarting pods start with the users recorded before",
      };
    }
    startup = lines && !problem ? lines : data.startup;
  }
  // Users are forgotten only once no instance and no start line can hold them.
  const linesCurrent = wanted.kind === "DefaultOnly" || (synced !== undefined && !problem);
  const users = everyPod && linesCurrent ? wantedApps : data.users ?? [];
  const defaultUserOff = wanted.kind === "Users" && !wanted.defaultUserOn;
  return {
    next: {
      passwords: data.passwords,
      ...(startup ? { startup } : {}),
      ...(users.length ? { users: [...users].sort() } : {}),
      ...(defaultUserOff ? { defaultUserOff } : {}),
    },
    ...(problem ? { problem } : {}),
  };
}

/**
 * Did Redis refuse the rules themselves (rather than not answer, or answer
 * BUSY or LOADING, which say nothing of them)?
 */
function refusedByRedis(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (e.name === "ReplyError" && /^ERR Error in ACL SETUSER/.test(e.message)) return true;
  }
  return false;
}

function refusal(pod: string, error: unknown): Problem {
  return {
    reason: Reason.RedisCommandFailed,
    message: `ACL users on ${pod}: ${describeError(error)}`,
  };
}

/** Redis's own words from a refused command (the client wraps them). */
function redisMessage(error: unknown): string {
  return describeError((error as { cause?: unknown }).cause ?? error);
}

/** The same problem from every instance is one; sorted, so the status reads the same. */
function unique(problems: readonly Problem[]): Problem[] {
  return [...new Map(problems.map((p) => [p.message, p])).values()]
    .sort((a, b) => a.message.localeCompare(b.message));
}
