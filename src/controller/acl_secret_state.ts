/**
 * The operator's Secret `redis-NAME-acl` (spec.acl), read before a pass
 * observes the instances: the password of its own user, to reach them; the
 * passwords made once for its users, kept (with a backup in `redis-NAME`) for
 * as long as the Redis exists; the application users it has applied; the
 * lines a pod starts with. What the instances are brought to is in
 * acl_users.ts.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Secret } from "kubernetes-types/core/v1.d.ts";
import { Reason } from "../api/conditions.ts";
import { fieldManager, objectNames, type Redis } from "../api/redis.ts";
import { initialStartupLines, type InternalPasswords, operatorUser } from "../decide/acl.ts";
import type { Problem } from "../decide/status.ts";
import { unlessNotFound } from "../kube/client.ts";
import type { Credential } from "../redis/client.ts";
import {
  aclBackupFieldManager,
  type AclSecretData,
  buildAclBackup,
  buildAclSecret,
  readAclBackup,
  readAclSecretData,
} from "../specs/acl_secret.ts";
import type { ReconcileDeps } from "./deps.ts";
import { describeError } from "../text/describe_error.ts";

/** What a pass knows of the operator's Secret before it observes the instances. */
export interface AclPass {
  /** The operator's own user, when its password is known. */
  readonly operatorCredential?: Credential;
  /** The Secret as read (or written) this pass; undefined when it could not be read. */
  readonly data?: AclSecretData;
  /** Its own Secret cannot be read, written, or is not its own. */
  readonly problems: Problem[];
}

/** What the pass knows besides the Secret. */
export interface AclContext {
  /** Do pods of the Redis exist (then they did not start with the lines written now)? */
  readonly podsExist: boolean;
  /** The password Secret `redis-NAME`, as read (undefined: missing or unreadable). */
  readonly passwordSecret: Secret | undefined;
  /** `redis-NAME` is someone else's: the backup is not written there. */
  readonly passwordSecretForeign: boolean;
  /** `redis-NAME` could not be read: the backup in it is unknown. */
  readonly passwordSecretUnreadable: boolean;
}

/**
 * What each Redis's Secret said (by uid), so a Secret deleted by hand, or one
 * the API server fails to give, still leaves the operator its password.
 */
const knownData = new Map<string, AclSecretData>();

/** Forgets what was read for a Redis that is gone. */
export function forgetAclSecret(uid: string): void {
  knownData.delete(uid);
}

/** SHA-256 of a password, hex, as `ACL SETUSER #…` takes it. */
export function passwordHash(password: string): string {
  return createHash("sha256").update(password).digest("hex");
}

/** Do two readings of the Secret say the same? */
export function sameData(a: AclSecretData, b: AclSecretData): boolean {
  const key = (d: AclSecretData) => [
    d.passwords,
    d.startup ?? "",
    [...d.users ?? []].sort(),
    d.defaultUserOff === true,
  ];
  return JSON.stringify(key(a)) === JSON.stringify(key(b));
}

/** Writes the operator's Secret. */
export async function writeAclSecret(
  deps: ReconcileDeps,
  redis: Redis,
  data: AclSecretData,
): Promise<void> {
  await deps.apis.secrets.apply(
    redis.metadata?.namespace ?? "",
    buildAclSecret(redis, data),
    { fieldManager, force: true },
  );
  knownData.set(redis.metadata?.uid ?? "", data);
}

/**
 * Reads the operator's Secret and, with spec.acl, makes what it lacks: the
 * passwords (made once: the running instances know no others, so a lost
 * Secret is written back from memory or from the backup), the application
 * users about to be applied (recorded first, so any user the operator applied
 * is one it may remove), and for a Redis whose pods do not exist yet the
 * lines they start with (otherwise acl_users.ts writes them once the instances
 * have the users).
 */
export async function prepareAcl(
  deps: ReconcileDeps,
  redis: Redis,
  context: AclContext,
): Promise<AclPass> {
  const namespace = redis.metadata?.namespace ?? "";
  const secretName = objectNames(redis.metadata?.name ?? "").acl;
  const uid = redis.metadata?.uid ?? "";
  const acl = redis.spec?.acl;
  const credentialOf = (data: AclSecretData | undefined) =>
    data ? { operatorCredential: { user: operatorUser, password: data.passwords.operator } } : {};
  let secret: Secret | undefined;
  try {
    secret = await unlessNotFound(deps.apis.secrets.get(namespace, secretName));
  } catch (error) {
    return {
      ...credentialOf(knownData.get(uid)),
      problems: [{
        reason: Reason.SecretUnreadable,
        message: `Cannot read Secret ${secretName}: ${describeError(error)}`,
      }],
    };
  }
  if (secret && !secret.metadata?.ownerReferences?.some((r) => r.uid === uid)) {
    return {
      problems: [{
        reason: Reason.SecretConflict,
        message:
          `Secret ${secretName} exists and does not belong to this Redis: the operator keeps its own ACL users' passwords there and will not overwrite it; rename or delete it`,
      }],
    };
  }
  const read = readAclSecretData(secret);
  if (read) knownData.set(uid, read);
  const backup = readAclBackup(context.passwordSecret);
  const current = read ?? knownData.get(uid) ?? (backup ? { passwords: backup } : undefined);
  if (acl && !current && context.podsExist && context.passwordSecretUnreadable) {
    // The backup may hold the passwords the instances run with: new ones could lock the
    // operator out of them for good.
    return {
      problems: [{
        reason: Reason.SecretUnreadable,
        message: `Secret ${secretName} is missing and the backup of its passwords in ${
          objectNames(redis.metadata?.name ?? "").base
        } cannot be read: no new passwords are made while instances may hold the old ones`,
      }],
    };
  }
  let next = current;
  if (acl) {
    const passwords = current?.passwords ?? newPasswords();
    // A new Redis: its pods start with the operator's users (the rest follows live).
    const fresh = !current?.startup && !context.podsExist;
    const startup = current?.startup ?? (fresh ? initialStartupLines(passwords, passwordHash) : "");
    const defaultUserOff = fresh ? acl.disableDefaultUser === true : current?.defaultUserOff;
    const users = [...new Set([...current?.users ?? [], ...(acl.users ?? []).map((u) => u.name)])]
      .sort();
    next = {
      passwords,
      ...(startup ? { startup } : {}),
      ...(users.length ? { users } : {}),
      ...(defaultUserOff ? { defaultUserOff } : {}),
    };
  }
  const problems: Problem[] = [];
  let data = read;
  if (next && (!read || !sameData(next, read))) {
    try {
      await writeAclSecret(deps, redis, next);
      data = next;
    } catch (error) {
      problems.push({
        reason: Reason.ApplyFailed,
        message: `Cannot write Secret ${secretName}: ${describeError(error)}`,
      });
    }
  }
  const known = data ?? current;
  // Not into a redis-NAME that does not exist yet while spec.password is set: created with
  // the backup alone, it would read as "no password" to the password copy.
  const backupPlace = !context.passwordSecretForeign && !context.passwordSecretUnreadable &&
    (context.passwordSecret !== undefined || !redis.spec?.password);
  if (known && backupPlace && !samePasswords(backup, known.passwords)) {
    try {
      await deps.apis.secrets.apply(namespace, buildAclBackup(redis, known.passwords), {
        fieldManager: aclBackupFieldManager,
        force: true,
      });
    } catch (error) {
      problems.push({
        reason: Reason.ApplyFailed,
        message: `Cannot write the ACL passwords' backup in Secret ${
          objectNames(redis.metadata?.name ?? "").base
        }: ${describeError(error)}`,
      });
    }
  }
  return { ...credentialOf(known), ...(data ? { data } : {}), problems };
}

function samePasswords(a: InternalPasswords | undefined, b: InternalPasswords): boolean {
  return a?.operator === b.operator && a.replication === b.replication &&
    a.exporter === b.exporter;
}

/** New passwords for the operator's users: 32 random bytes each, hex. */
function newPasswords(): InternalPasswords {
  const one = () =>
    [...crypto.getRandomValues(new Uint8Array(32))]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
  return { operator: one(), replication: one(), exporter: one() };
}
