/**
 * ACL users (spec.acl): which users every instance should have, the steps
 * that bring an instance there, and the lines a restarting pod starts with.
 * Pure.
 *
 * With spec.acl the operator talks to Redis as {@linkcode operatorUser}, with
 * only the commands it sends; replicas authenticate to their master as
 * {@linkcode replicationUser}; an exporter sidecar reads as
 * {@linkcode exporterUser}. Their passwords are made by the operator and kept
 * in its Secret `redis-NAME-acl`, never in a ConfigMap, the status or a log.
 * ACLs are not replicated, so every instance is given the users itself, live
 * with `ACL SETUSER`; and the Secret holds the users a restarting pod starts
 * with, copied from a running instance's `ACL LIST` (lines Redis has already
 * accepted, so a rule Redis refuses can never stop a pod from starting).
 *
 * @module
 */

/** The operator's own user: replication control, fencing, ACLs, no keys. */
export const operatorUser = "redis-operator";
/** The user replicas authenticate to their master as. */
export const replicationUser = "redis-operator-replication";
/** The user of the redis_exporter sidecar: reads INFO and settings, no keys. */
export const exporterUser = "redis-operator-exporter";
/** The preStop hook's user, made by each container at start with its own token. */
export const hookUser = "redis-operator-hook";

/**
 * What the operator sends (src/redis/client.ts): INFO and PING to observe,
 * REPLICAOF and CONFIG for replication, fencing, passwords and TLS reloads,
 * CLIENT KILL to send clients back through discovery, MULTI/EXEC around them,
 * and ACL to keep the users. No key, no channel.
 */
export const operatorRules = [
  "resetchannels",
  "-@all",
  "+ping",
  "+hello",
  "+info",
  "+replicaof",
  "+config|get",
  "+config|set",
  "+client|kill",
  "+multi",
  "+exec",
  "+discard",
  "+acl|setuser",
  "+acl|deluser",
  "+acl|list",
  "+acl|users",
] as const;

/** What a replica sends its master (Redis's documented minimum). */
export const replicationRules = ["resetchannels", "-@all", "+psync", "+replconf", "+ping"] as const;

/**
 * What redis_exporter reads: INFO, slow log, latency; no key. Not CONFIG GET:
 * it would give `requirepass` and `masterauth` in clear, and Redis cannot
 * allow it for some parameters only. The exporter's config metrics are lost.
 */
export const exporterRules = [
  "resetchannels",
  "-@all",
  "+ping",
  "+hello",
  "+select",
  "+info",
  "+dbsize",
  "+client|list",
  "+slowlog|get",
  "+slowlog|len",
  "+latency|latest",
  "+cluster|info",
] as const;

/** The passwords of the operator's own users, from its Secret. */
export interface InternalPasswords {
  readonly operator: string;
  readonly replication: string;
  readonly exporter: string;
}

/** One user as every instance should have it. */
export interface WantedUser {
  readonly name: string;
  /** SHA-256 of the password, hex: Redis is sent the hash (`#…`), never the password. */
  readonly passwordHash: string;
  /** ACL SETUSER arguments after the password. */
  readonly rules: readonly string[];
}

/** The ACL state every instance of a Redis should be in. */
export type WantedAcl =
  | {
    readonly kind: "Users";
    /** The operator's users first, then the application users. */
    readonly users: readonly WantedUser[];
    /** Application users left as they are: their password cannot be read this pass. */
    readonly untouched: readonly string[];
    readonly defaultUserOn: boolean;
    readonly replicationPassword: string;
  }
  | {
    /** No spec.acl: only the default user (and the hook's); replicas use the default password. */
    readonly kind: "DefaultOnly";
    readonly masterPassword: string;
  };

/**
 * Splits rules into ACL SETUSER arguments at spaces and tabs; a selector in
 * parentheses is one argument however many spaces it holds.
 *
 * @example
 * ```ts
 * const args = ruleArguments("~app:* +@read (~log:* +xadd)");
 * console.assert(args.length === 3 && args[2] === "(~log:* +xadd)");
 * ```
 */
export function ruleArguments(rules: string): string[] {
  return rules.match(/\([^)]*\)?|[^ \t(]+/g) ?? [];
}

/** The internal users with their rules. */
export function internalUsers(
  passwords: InternalPasswords,
  hash: (password: string) => string,
): WantedUser[] {
  return [
    { name: operatorUser, passwordHash: hash(passwords.operator), rules: operatorRules },
    { name: replicationUser, passwordHash: hash(passwords.replication), rules: replicationRules },
    { name: exporterUser, passwordHash: hash(passwords.exporter), rules: exporterRules },
  ];
}

/** `ACL SETUSER` arguments that give `user` exactly its password and rules. */
export function setUserArguments(user: WantedUser): string[] {
  return [user.name, "reset", "on", `#${user.passwordHash}`, ...user.rules];
}

/** The user name of an `ACL LIST` line. */
export function listedUser(line: string): string {
  return line.split(" ")[1] ?? "";
}

/**
 * The users the operator answers for: its own, and the application users it
 * has applied (`recorded` in its Secret). Users made by hand are never touched.
 */
export function managedUsers(recorded: readonly string[]): Set<string> {
  return new Set([operatorUser, replicationUser, exporterUser, ...recorded]);
}

/**
 * Does an instance with this `ACL LIST` carry a user of spec.acl? Only then
 * does a Redis without spec.acl have something to undo.
 */
export function hasAclTraces(list: readonly string[], managed: ReadonlySet<string>): boolean {
  return list.some((line) => managed.has(listedUser(line)));
}

/** Users the operator made that the wanted state does not have: deleted. */
export function staleUsers(
  list: readonly string[],
  wanted: WantedAcl,
  managed: ReadonlySet<string>,
): string[] {
  const keep = new Set(
    wanted.kind === "Users" ? [...wanted.users.map((u) => u.name), ...wanted.untouched] : [],
  );
  return list.map(listedUser).filter((user) => managed.has(user) && !keep.has(user));
}

/**
 * What an instance's `ACL LIST` says about its ACL state, for comparing one
 * pass with the next: the hook's line is left out (each container makes its
 * own token).
 */
export function aclFingerprint(list: readonly string[]): string {
  return list.filter((line) => listedUser(line) !== hookUser).join("\n");
}

/**
 * The configuration lines a pod starts with (appended to its auth include):
 * the users the operator answers for (`managed`), as an instance that has
 * them all lists them, and the replication user towards the master. Not the
 * default user: its password comes from the password Secret (`requirepass`),
 * which a change of password keeps current (decide/password.ts), and whether
 * it is off from its own setting (specs/acl_secret.ts). Not users
 * made by hand: a restart drops them, as it would without the operator.
 */
export function startupLines(
  list: readonly string[],
  managed: ReadonlySet<string>,
  replicationPassword: string,
): string {
  return [
    ...list.filter((line) => managed.has(listedUser(line))),
    `masteruser ${replicationUser}`,
    `masterauth "${quoteConf(replicationPassword)}"`,
  ].join("\n") + "\n";
}

/**
 * Would Redis read every line as it is meant? Lines are split at spaces, and
 * quotes and backslashes are read as quoting; the rules refuse them
 * (api/validation.ts), and a line that still has one is not recorded: it
 * would stop every restarting pod.
 */
export function plainLines(lines: string): boolean {
  return lines.split("\n").every((line) =>
    // deno-lint-ignore no-control-regex -- control characters are what it looks for
    line.startsWith("masterauth ") || !/["'\\\x00-\x08\x0a-\x1f\x7f]/.test(line)
  );
}

/**
 * The lines a pod starts with before any instance has been given the users
 * (a new Redis): the operator's own users, whose rules are known to be valid.
 * Application users follow live, once Redis has accepted their rules.
 */
export function initialStartupLines(
  passwords: InternalPasswords,
  hash: (password: string) => string,
): string {
  const lines = internalUsers(passwords, hash).map((u) =>
    `user ${setUserArguments(u).filter((a) => a !== "reset").join(" ")}`
  );
  return startupLines(lines, managedUsers([]), passwords.replication);
}

/** Inside double quotes redis.conf reads `\\` and `\"` as escapes. */
function quoteConf(text: string): string {
  return text.replace(/[\\"]/g, (c) => `\\${c}`);
}
