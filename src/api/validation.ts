/**
 * What the operator refuses in a Redis spec, checked again by the operator
 * (the CRD's CEL rules say the same, but a resource stored under an older CRD
 * or written past admission must not reach redis.conf).
 *
 * @module
 */
import { badValues } from "./config_values.ts";
import { objectNames, type Redis } from "./redis.ts";

/**
 * redis.conf directives the operator manages: setting one in spec.config
 * could break replication, authentication or fencing, or lock the operator
 * out. Also in the CRD's CEL rule (a unit test keeps the two lists equal).
 */
export const managedDirectives: readonly string[] = [
  "port",
  "bind",
  "dir",
  "replicaof",
  "slaveof",
  "masterauth",
  "masteruser",
  "requirepass",
  "user",
  "aclfile",
  "replica-announce-ip",
  "replica-announce-port",
  "slave-announce-ip",
  "slave-announce-port",
  "rename-command",
  "include",
  "daemonize",
  "protected-mode",
  "pidfile",
  "supervised",
  "unixsocket",
  "min-replicas-to-write",
  "min-slaves-to-write",
  "min-replicas-max-lag",
  "min-slaves-max-lag",
  "repl-ping-replica-period",
  "repl-ping-slave-period",
  // The same priority on every pod ranks nothing; 0 everywhere forbids every failover.
  "replica-priority",
  "slave-priority",
  // A writable replica accepts writes that its next sync silently throws away.
  "replica-read-only",
  "slave-read-only",
  // spec.tls: a port or file of its own would take TLS from the operator and the probes,
  // and required client certificates would lock them out.
  "tls-port",
  "tls-cert-file",
  "tls-key-file",
  "tls-key-file-pass",
  "tls-client-cert-file",
  "tls-client-key-file",
  "tls-client-key-file-pass",
  "tls-ca-cert-file",
  "tls-ca-cert-dir",
  "tls-auth-clients",
  "tls-replication",
];

/**
 * The only shape of a directive name spec.config accepts. Redis trims a line
 * and splits it on any whitespace, honours quotes, and compares names without
 * case, so `"min-replicas-max-lag\t"`, `" port"` or `'"port"'` would reach it
 * as a managed directive; a strict pattern leaves no such spelling.
 */
export const directiveNamePattern = /^[a-z][a-z0-9-]*$/;

/**
 * Why the operator refuses `redis`'s spec, as sentences for the status; empty
 * when it accepts it.
 *
 * @example
 * ```ts
 * const redis = { spec: { config: { "min-replicas-max-lag\t": "0" } } };
 * console.assert(specProblems(redis).length === 1);
 * ```
 */
export function specProblems(redis: Redis): string[] {
  const problems: string[] = [];
  const config = redis.spec?.config ?? {};
  const malformed = Object.keys(config).filter((k) => !directiveNamePattern.test(k));
  if (malformed.length) {
    problems.push(
      `spec.config names must be lowercase redis.conf directives (a-z, 0-9, "-"): ${
        malformed.map((k) => JSON.stringify(k)).join(", ")
      }`,
    );
  }
  const managed = Object.keys(config).filter((k) => managedDirectives.includes(k));
  if (managed.length) {
    problems.push(
      `spec.config must not set directives the operator manages: ${managed.join(", ")}`,
    );
  }
  const broken = Object.entries(config).filter(([, v]) => /[\r\n\0]/.test(v)).map(([k]) => k);
  if (broken.length) {
    problems.push(
      `spec.config values cannot contain line breaks: ${
        broken.map((k) => JSON.stringify(k)).join(", ")
      }`,
    );
  }
  const unbalanced = Object.entries(config).filter(([, v]) => !splitsLikeRedis(v)).map(([k]) => k);
  if (unbalanced.length) {
    problems.push(
      `spec.config values must have balanced quotes (Redis would refuse to start): ${
        unbalanced.join(", ")
      }`,
    );
  }
  problems.push(...badValues(config));
  const maxclients = config["maxclients"];
  if (maxclients !== undefined && !(Number(maxclients) >= minimumMaxclients)) {
    problems.push(
      `spec.config maxclients must be at least ${minimumMaxclients}: the operator, its monitor and the preStop hook need connections of their own`,
    );
  }
  problems.push(...aclProblems(redis));
  const own = objectNames(redis.metadata?.name ?? "").base;
  if (redis.spec?.password?.secretKeyRef?.name === own) {
    problems.push(
      `spec.password.secretKeyRef names Secret ${own}, which the operator writes and deletes with the Redis: keep the password in a Secret of another name`,
    );
  }
  const replicas = redis.spec?.replicas ?? 3;
  if (replicas > maximumReplicas) {
    problems.push(
      `spec.replicas ${replicas} is more than ${maximumReplicas}: every replica is a full copy fed by the one master`,
    );
  }
  const toWrite = redis.spec?.failover?.minReplicasToWrite;
  if (toWrite !== undefined && toWrite >= replicas) {
    problems.push(
      `spec.failover.minReplicasToWrite ${toWrite} needs more replicas than the ${
        replicas - 1
      } a Redis of ${replicas} instances has: every write would be refused`,
    );
  }
  return problems;
}

/**
 * The most instances a Redis may have (also the CRD's maximum): each replica
 * is a full copy of the data fed by the one master, whose output buffers and
 * full syncs grow with every one, and the operator reads every instance on
 * each pass. More copies add cost, not safety; read scaling past this wants
 * Redis Cluster.
 */
export const maximumReplicas = 32;

/** Fewer clients than this would leave the operator no connection of its own. */
const minimumMaxclients = 32;

/**
 * Does `value` split into arguments the way Redis reads a redis.conf line?
 * Quotes must be balanced and a closing quote followed by a space or the end
 * (as sdssplitargs wants); otherwise Redis refuses the whole file.
 */
function splitsLikeRedis(value: string): boolean {
  const space = (c: string | undefined) => c !== undefined && /\s/.test(c);
  let i = 0;
  while (true) {
    while (space(value[i])) i++;
    if (i >= value.length) return true;
    let quote: '"' | "'" | undefined;
    for (let done = false; !done; i++) {
      const c = value[i];
      if (quote) {
        if (c === undefined) return false;
        if (c === "\\" && (quote === '"' || value[i + 1] === "'") && i + 1 < value.length) {
          i++;
        } else if (c === quote) {
          if (i + 1 < value.length && !space(value[i + 1])) return false;
          done = true;
        }
      } else if (c === undefined || space(c)) {
        done = true;
      } else if (c === '"' || c === "'") {
        quote = c;
      }
    }
  }
}

/**
 * Rules that set a password: the password comes from the user's Secret, and a
 * rule could otherwise add one the spec does not show (or `reset` it away).
 * The CRD's CEL rule uses the same pattern, with `(?i)` for the flag (a unit
 * test keeps them equal).
 */
export const passwordRulePattern = /(^|[ \t])([<>#!]|(nopass|resetpass|reset)([ \t]|$))/i;

/**
 * Characters a rule may not hold: Redis's config reader would take quotes and
 * backslashes as quoting (and stop a pod starting with the user's line), and
 * control characters are no rule's. A tab separates rules like a space.
 */
// deno-lint-ignore no-control-regex -- control characters are what it looks for
export const unsafeRuleCharacters = /["'\\\x00-\x08\x0a-\x1f\x7f]/;

/** What is wrong with spec.acl. */
function aclProblems(redis: Redis): string[] {
  const problems: string[] = [];
  const names = objectNames(redis.metadata?.name ?? "");
  const ownSecrets = new Set([names.base, names.acl]);
  if (ownSecrets.has(redis.spec?.password?.secretKeyRef?.name ?? "")) {
    problems.push(
      `spec.password.secretKeyRef names Secret ${redis.spec?.password?.secretKeyRef?.name}, which the operator writes: keep the password in a Secret of another name`,
    );
  }
  for (const user of redis.spec?.acl?.users ?? []) {
    if (user.name === "default" || user.name.startsWith("redis-operator")) {
      problems.push(`spec.acl.users ${user.name}: default and redis-operator* are the operator's`);
    }
    if (unsafeRuleCharacters.test(user.rules)) {
      problems.push(
        `spec.acl.users ${user.name}: rules must be one line without quotes, backslashes or control characters`,
      );
    }
    if (passwordRulePattern.test(user.rules)) {
      problems.push(
        `spec.acl.users ${user.name}: rules must not set passwords (>, <, #, !, nopass, resetpass, reset): the password comes from the user's Secret`,
      );
    }
    if (ownSecrets.has(user.password?.secretKeyRef?.name)) {
      problems.push(
        `spec.acl.users ${user.name} names Secret ${user.password.secretKeyRef.name}, which the operator writes: keep the password in a Secret of another name`,
      );
    }
  }
  return problems;
}
