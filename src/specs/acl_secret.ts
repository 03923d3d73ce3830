/**
 * The operator's Secret `redis-NAME-acl` (spec.acl): the passwords of its own
 * ACL users, which it makes once, and the user lines a pod starts with
 * (decide/acl.ts). The pods read the lines through an optional environment
 * variable, so adding or removing spec.acl changes no pod template.
 *
 * @module
 */
import type { Secret } from "kubernetes-types/core/v1.d.ts";
import { objectNames, type Redis } from "../api/redis.ts";
import type { InternalPasswords } from "../decide/acl.ts";
import { decodeBase64Text, encodeBase64Text } from "../text/base64.ts";
import { ownedSecret } from "./secret.ts";

/** The keys of the Secret. */
export const aclSecretKeys = {
  operator: "operator-password",
  replication: "replication-password",
  exporter: "exporter-password",
  /** Lines appended to the auth include at start (specs/config_map.ts). */
  startup: "acl.conf",
  /** The application users the operator has applied, one per line: only those it removes. */
  users: "users",
  /**
   * "off" turns the default user off in a starting pod: the start script then
   * declares it off with the password it starts with (`requirepass`'s), so
   * turning it on again gives it back.
   */
  defaultUser: "default-user",
} as const;

/** What the Secret holds. */
export interface AclSecretData {
  readonly passwords: InternalPasswords;
  /** Absent: pods start without spec.acl's users. */
  readonly startup?: string;
  /** The application users the operator has applied (and may have to remove). */
  readonly users?: readonly string[];
  /** Pods start with the default user off. */
  readonly defaultUserOff?: boolean;
}

/** Builds the Secret holding `data`. */
export function buildAclSecret(redis: Redis, data: AclSecretData): Secret {
  return ownedSecret(redis, objectNames(redis.metadata?.name ?? "").acl, {
    ...encodedPasswords(data.passwords, aclSecretKeys),
    ...(data.startup !== undefined
      ? { [aclSecretKeys.startup]: encodeBase64Text(data.startup) }
      : {}),
    ...(data.users?.length
      ? { [aclSecretKeys.users]: encodeBase64Text([...data.users].sort().join("\n")) }
      : {}),
    ...(data.defaultUserOff ? { [aclSecretKeys.defaultUser]: encodeBase64Text("off") } : {}),
  });
}

/** What a Secret holds, or undefined when it lacks a password (then new ones are made). */
export function readAclSecretData(secret: Secret | undefined): AclSecretData | undefined {
  const value = (key: string) => decodedKey(secret, key);
  const passwords = readPasswords(secret, aclSecretKeys);
  if (!passwords) return undefined;
  const startup = value(aclSecretKeys.startup);
  const users = value(aclSecretKeys.users)?.split("\n").filter((u) => u !== "");
  return {
    passwords,
    ...(startup ? { startup } : {}),
    ...(users?.length ? { users } : {}),
    ...(value(aclSecretKeys.defaultUser) === "off" ? { defaultUserOff: true } : {}),
  };
}

/**
 * A second copy of the operator's users' passwords, in the password Secret
 * `redis-NAME` under these keys, written with a field manager of its own
 * ({@linkcode aclBackupFieldManager}) so the password copy's writes leave it.
 * Should `redis-NAME-acl` be lost while the operator restarts, the passwords
 * the running instances hold are not.
 */
export const aclBackupKeys = {
  operator: "acl-operator-password",
  replication: "acl-replication-password",
  exporter: "acl-exporter-password",
} as const;

/** The field manager of the backup keys. */
export const aclBackupFieldManager = "redis-operator-acl-backup";

/** The backup keys of `passwords`, as an apply of `redis-NAME`. */
export function buildAclBackup(redis: Redis, passwords: InternalPasswords): Secret {
  return ownedSecret(
    redis,
    objectNames(redis.metadata?.name ?? "").base,
    encodedPasswords(passwords, aclBackupKeys),
  );
}

/** The backed-up passwords in `redis-NAME`, if it has them all. */
export function readAclBackup(secret: Secret | undefined): InternalPasswords | undefined {
  return readPasswords(secret, aclBackupKeys);
}

/** Where the three passwords are kept in a Secret. */
type PasswordKeys = { readonly [user in keyof InternalPasswords]: string };

/** The three passwords under `keys`, base64 as a Secret's data holds them. */
function encodedPasswords(
  passwords: InternalPasswords,
  keys: PasswordKeys,
): Record<string, string> {
  return {
    [keys.operator]: encodeBase64Text(passwords.operator),
    [keys.replication]: encodeBase64Text(passwords.replication),
    [keys.exporter]: encodeBase64Text(passwords.exporter),
  };
}

/** The three passwords under `keys`, if the Secret has them all. */
function readPasswords(
  secret: Secret | undefined,
  keys: PasswordKeys,
): InternalPasswords | undefined {
  const operator = decodedKey(secret, keys.operator);
  const replication = decodedKey(secret, keys.replication);
  const exporter = decodedKey(secret, keys.exporter);
  return operator && replication && exporter ? { operator, replication, exporter } : undefined;
}

/** The text under `key`, if the Secret has it. */
function decodedKey(secret: Secret | undefined, key: string): string | undefined {
  const encoded = secret?.data?.[key];
  return encoded === undefined ? undefined : decodeBase64Text(encoded);
}
