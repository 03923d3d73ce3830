/**
 * spec.acl, its effects: the operator's Secret of its own users' passwords
 * (made once), the users every instance is given live with `ACL SETUSER`, and
 * the lines a restarting pod starts with. The decisions are in decide/acl.ts.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Secret } from "kubernetes-types/core/v1.d.ts";
import { Reason } from "../api/conditions.ts";
import { fieldManager, objectNames, type Redis } from "../api/redis.ts";
import {
  aclFingerprint,
  hasAclTraces,
  initialStartupLines,
  internalUsers,
  managedUsers,
  operatorUser,
  replicationUser,
  ruleArguments,
  setUserArguments,
  staleUsers,
  startupLines,
  type WantedAcl,
  type WantedUser,
} from "../decide/acl.ts";
import type { Problem } from "../decide/status.ts";
import { decodeBase64Text } from "../kube/base64.ts";
import { isNotFound, unlessNotFound } from "../kube/client.ts";
import type { Credential, RedisNode } from "../redis/client.ts";
import { type AclSecretData, buildAclSecret, readAclSecretData } from "../specs/acl_secret.ts";
import type { ReconcileDeps } from "./deps.ts";
import type { ObservedInstance } from "./observe.ts";

/** What a pass knows of spec.acl before it observes the instances. */
export interface AclPass {
  /** The operator's own user, when its password is known. */
  readonly operatorCredential?: Credential;
  /** Undefined when it is not known this pass (a Secret could not be read): nothing changes. */
  readonly wanted?: WantedAcl;
  /** The operator's Secret as read (or written) this pass. */
  readonly data?: AclSecretData;
  /** Problems that hold the Redis from Ready (its own Secret cannot be read or is not its own). */
  readonly problems: Problem[];
  /** Problems of an application user: reported, replication is unaffected. */
  readonly advisory: Problem[];
}

/**
 * The operator's users' passwords read for each Redis (by uid). Should its
 * Secret be deleted by hand, it is written back with them: the running
 * instances know no others. Lost with an operator restart; then new passwords
 * are made, and the instances are reached with the default user's password
 * (if on) until restarted pods start with the new ones.
 */
const knownData = new Map<string, AclSecretData>();

/** Do two readings of the Secret say the same? */
function sameData(a: AclSecretData, b: AclSecretData): boolean {
  return JSON.stringify(buildAclSecretDataKey(a)) === JSON.stringify(buildAclSecretDataKey(b));
}

function buildAclSecretDataKey(data: AclSecretData) {
  return [data.passwords, data.startup ?? "", [...data.users ?? []].sort()];
}

/** SHA-256 of a password, hex, as `ACL SETUSER #…` takes it. */
export function passwordHash(password: string): string {
  return createHash("sha256").update(password).digest("hex");
}

/** A new password for one of the operator's users: 32 random bytes, hex. */
function newPassword(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Reads (and, with spec.acl, makes) the operator's Secret, and reads each
 * application user's password. `defaultPassword` is the password the
 * instances' default user has (`""`: none; undefined: unknown this pass).
 */
export async function prepareAcl(
  deps: ReconcileDeps,
  redis: Redis,
  defaultPassword: string | undefined,
): Promise<AclPass> {
  const namespace = redis.metadata?.namespace ?? "";
  const secretName = objectNames(redis.metadata?.name ?? "").acl;
  const acl = redis.spec?.acl;
  let secret: Secret | undefined;
  try {
    secret = await unlessNotFound(deps.apis.secrets.get(namespace, secretName));
  } catch (error) {
    return {
      problems: [{
        reason: Reason.SecretUnreadable,
        message: `Cannot read Secret ${secretName}: ${describe(error)}`,
      }],
      advisory: [],
    };
  }
  if (secret && !secret.metadata?.ownerReferences?.some((r) => r.uid === redis.metadata?.uid)) {
    return {
      problems: [{
        reason: Reason.SecretConflict,
        message:
          `Secret ${secretName} exists and does not belong to this Redis: the operator keeps its own ACL users' passwords there and will not overwrite it; rename or delete it`,
      }],
      advisory: [],
    };
  }
  const problems: Problem[] = [];
  const uid = redis.metadata?.uid ?? "";
  const read = readAclSecretData(secret);
  if (read) knownData.set(uid, read);
  // Deleted by hand while the instances run with these users: written back as it was
  // (new passwords would lock the operator out of every running instance).
  const current = read ?? knownData.get(uid);
  let next = current;
  if (acl) {
    const passwords = current?.passwords ??
      { operator: newPassword(), replication: newPassword(), exporter: newPassword() };
    // What pods start with: spec.acl's users from the first pod on.
    const startup = current?.startup ?? (defaultPassword === undefined ? undefined : (
      initialStartupLines(
        passwords,
        { on: !acl.disableDefaultUser, password: defaultPassword },
        passwordHash,
      )
    ));
    // Recorded before they are applied: every user the operator applied is one it may remove.
    const users = [...new Set([...current?.users ?? [], ...(acl.users ?? []).map((u) => u.name)])]
      .sort();
    next = { passwords, ...(startup ? { startup } : {}), ...(users.length ? { users } : {}) };
  } else if (current) {
    // Pods start without spec.acl's users; the users stay recorded until gone from every instance.
    next = { passwords: current.passwords, ...(current.users ? { users: current.users } : {}) };
  }
  let data = read;
  if (next && (!read || !sameData(next, read))) {
    try {
      await writeAclSecret(deps, redis, next);
      data = next;
      knownData.set(uid, next);
    } catch (error) {
      problems.push({
        reason: Reason.ApplyFailed,
        message: `Cannot write Secret ${secretName}: ${describe(error)}`,
      });
    }
  }
  const operatorCredential = data
    ? { operatorCredential: { user: operatorUser, password: data.passwords.operator } }
    : {};
  if (!acl) {
    return {
      ...operatorCredential,
      ...(data ? { data } : {}),
      ...(defaultPassword !== undefined
        ? { wanted: { kind: "DefaultOnly", masterPassword: defaultPassword } }
        : {}),
      problems,
      advisory: [],
    };
  }
  const advisory: Problem[] = [];
  const users: WantedUser[] = [];
  for (const user of acl.users ?? []) {
    const password = await readUserPassword(deps, namespace, user.name, user.password.secretKeyRef);
    if (typeof password === "object") advisory.push(password);
    else {
      users.push({
        name: user.name,
        passwordHash: passwordHash(password),
        rules: ruleArguments(user.rules),
      });
    }
  }
  // A user whose password cannot be read is neither changed nor removed: nothing is, this pass.
  const known = !advisory.length && problems.length === 0;
  return {
    ...operatorCredential,
    ...(data ? { data } : {}),
    ...(data && known
      ? {
        wanted: {
          kind: "Users",
          users: [...internalUsers(data.passwords, passwordHash), ...users],
          defaultUserOn: !acl.disableDefaultUser,
          replicationPassword: data.passwords.replication,
        },
      }
      : {}),
    problems,
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
  const where = `(spec.acl.users ${user})`;
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
        message: `Cannot read Secret ${ref.name} ${where}: ${describe(error)}`,
      };
  }
}

async function writeAclSecret(deps: ReconcileDeps, redis: Redis, data: AclSecretData) {
  await deps.apis.secrets.apply(
    redis.metadata?.namespace ?? "",
    buildAclSecret(redis, data),
    { fieldManager, force: true },
  );
}

/**
 * What the operator last brought each instance to, by Redis uid and pod: the
 * wanted state, the instance's `ACL LIST` right after, and the users it
 * refused. An instance whose list still reads the same for the same wanted
 * state is not sent anything; a restart, a change by hand or a change of the
 * spec makes it differ. Memory only: after an operator restart every
 * instance is brought there once more, which changes nothing.
 */
const applied = new Map<string, { state: string; refused: Problem[] }>();

/** Forgets what was applied for a Redis that is gone. */
export function forgetAcl(uid: string): void {
  knownData.delete(uid);
  for (const key of applied.keys()) if (key.startsWith(`${uid}/`)) applied.delete(key);
}

/** What a sync did: problems of instances, users Redis refused, and the instances changed. */
export interface AclSyncOutcome {
  readonly problems: Problem[];
  readonly advisory: Problem[];
  readonly changed: string[];
}

/**
 * Brings every reachable instance to `pass.wanted`, in three rounds, each on
 * every instance before the next: users added and the default user on; the
 * user replicas authenticate as; stale users removed and the default user off.
 * So a replica always authenticates as a user its master already has, and the
 * default user goes only once no replica needs it. Then records, from an
 * instance that has every operator user (the master's first), the lines a
 * restarting pod starts with.
 */
export async function syncAcl(
  deps: ReconcileDeps,
  redis: Redis,
  observed: readonly ObservedInstance[],
  pass: AclPass,
  masterPod: string | undefined,
): Promise<AclSyncOutcome> {
  const wanted = pass.wanted;
  const outcome: AclSyncOutcome = { problems: [], advisory: [], changed: [] };
  if (!wanted) return outcome;
  const uid = redis.metadata?.uid ?? "";
  const managed = managedUsers(pass.data?.users ?? []);
  const signature = JSON.stringify([wanted, [...managed]]);
  const reachable = observed.filter((o) => o.node);
  const lists = new Map<string, string[]>();
  await Promise.all(reachable.map(async (o) => {
    try {
      lists.set(o.observation.pod, await o.node!.aclList());
    } catch (error) {
      outcome.problems.push(refusal(o.observation.pod, error));
    }
  }));
  const stateOf = (list: readonly string[]) => `${signature}\n${aclFingerprint(list)}`;
  const due = reachable.filter((o) => {
    const list = lists.get(o.observation.pod);
    if (!list) return false;
    const known = applied.get(`${uid}/${o.observation.pod}`);
    if (known?.state === stateOf(list)) {
      outcome.advisory.push(...known.refused);
      return false;
    }
    return wanted.kind === "Users" || hasAclTraces(list, managed);
  });
  const refusedBy = new Map<string, Problem[]>();
  const failed = new Set<string>();
  const round = async (run: (node: RedisNode, pod: string) => Promise<void>) => {
    await Promise.all(
      due.filter((o) => !failed.has(o.observation.pod)).map(async (o) => {
        try {
          await run(o.node!, o.observation.pod);
        } catch (error) {
          failed.add(o.observation.pod);
          outcome.problems.push(refusal(o.observation.pod, error));
        }
      }),
    );
  };
  if (wanted.kind === "Users") {
    await round(async (node, pod) => {
      const refused: Problem[] = [];
      for (const user of wanted.users) {
        try {
          await node.setUser(setUserArguments(user));
        } catch (error) {
          // The operator's own users have fixed rules: only a user's own rules are refused.
          if (user.name === operatorUser || user.name === replicationUser) throw error;
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
  await Promise.all(
    due.filter((o) => !failed.has(o.observation.pod)).map(async (o) => {
      const pod = o.observation.pod;
      if (selfDeleted.has(pod)) {
        outcome.changed.push(pod);
        return;
      }
      try {
        const after = await o.node!.aclList();
        if (aclFingerprint(after) !== aclFingerprint(lists.get(pod) ?? [])) {
          outcome.changed.push(pod);
        }
        lists.set(pod, after);
        const refused = refusedBy.get(pod) ?? [];
        applied.set(`${uid}/${pod}`, { state: stateOf(after), refused });
        outcome.advisory.push(...refused);
      } catch (error) {
        outcome.problems.push(refusal(pod, error));
      }
    }),
  );
  // Every pod answered and took every step: no instance can hold a user dropped earlier.
  const everywhere = observed.length > 0 &&
    observed.every((o) =>
      o.node && lists.has(o.observation.pod) && !failed.has(o.observation.pod) &&
      !outcome.problems.some((p) => p.message.includes(` ${o.observation.pod}:`))
    );
  const masterList = () =>
    [...reachable]
      .sort((a, b) =>
        Number(b.observation.pod === masterPod) - Number(a.observation.pod === masterPod)
      )
      .map((o) => selfDeleted.has(o.observation.pod) ? undefined : lists.get(o.observation.pod))
      .find((list) => list !== undefined && hasOperatorUsers(list));
  if (pass.data) {
    const next = recordAfter(pass.data, wanted, everywhere, masterList());
    if (!sameData(next, pass.data)) {
      try {
        await writeAclSecret(deps, redis, next);
        knownData.set(uid, next);
      } catch (error) {
        outcome.problems.push({
          reason: Reason.ApplyFailed,
          message: `Cannot write Secret ${objectNames(redis.metadata?.name ?? "").acl}: ${
            describe(error)
          }`,
        });
      }
    }
  }
  // The same refusal on every instance is one problem.
  const unique = (problems: Problem[]) =>
    [
      ...new Map(problems.map((p) => [p.message, p])).values(),
    ].sort((a, b) => a.message.localeCompare(b.message));
  return {
    problems: unique(outcome.problems),
    advisory: unique(outcome.advisory),
    changed: outcome.changed.sort(),
  };
}

/** Does an `ACL LIST` hold the operator's own users, on? */
function hasOperatorUsers(list: readonly string[]): boolean {
  return [operatorUser, replicationUser].every((user) =>
    list.some((line) => line.startsWith(`user ${user} on `))
  );
}

/**
 * What the Secret records after a sync: with spec.acl, the start lines from
 * `synced` (an instance's `ACL LIST` with the operator's users); and, once
 * `everywhere` (every pod took every step), only the users still wanted.
 */
function recordAfter(
  data: AclSecretData,
  wanted: WantedAcl,
  everywhere: boolean,
  synced: readonly string[] | undefined,
): AclSecretData {
  const startup = wanted.kind === "Users" && synced
    ? startupLines(synced, wanted.replicationPassword)
    : data.startup;
  const apps = wanted.kind === "Users"
    ? wanted.users.map((u) => u.name).filter((name) => !managedUsers([]).has(name))
    : [];
  const users = everywhere ? apps : data.users ?? [];
  return {
    passwords: data.passwords,
    ...(startup ? { startup } : {}),
    ...(users.length ? { users: [...users].sort() } : {}),
  };
}

function refusal(pod: string, error: unknown): Problem {
  return {
    reason: Reason.RedisCommandFailed,
    message: `ACL users on ${pod}: ${describe(error)}`,
  };
}

/** Redis's own words from a refused command (the client wraps them). */
function redisMessage(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return describe(cause ?? error);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
