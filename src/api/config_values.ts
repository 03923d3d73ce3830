/**
 * spec.config values the API server checks before any pod starts: a few
 * common directives whose grammar is the same in every Redis and Valkey the
 * operator runs. Any other value reaches Redis as written; if Redis refuses
 * it, the pod's crash loop is reported with Redis's own message
 * (decide/pod_trouble.ts).
 *
 * Each entry is also a CEL rule of the CRD (`celRule`; a unit test keeps the
 * two equal), and the operator checks it again (api/validation.ts).
 *
 * @module
 */

/** One directive whose value is checked, and what it takes. */
export interface CheckedDirective {
  readonly name: string;
  /**
   * The value's grammar, lowercased first (Redis compares units, enums and
   * yes/no without case). Written for both RE2 (CEL) and JavaScript. A value
   * may be quoted: Redis strips the quotes; unbalanced ones are refused elsewhere.
   */
  readonly pattern: string;
  /** What the value must be, for the refusal. */
  readonly expects: string;
}

const quoted = (core: string) => `^["']?(${core})["']?$`;

/** The directives checked at apply time. */
export const checkedDirectives: readonly CheckedDirective[] = [
  {
    name: "maxmemory",
    pattern: quoted("[0-9]+(b|k|kb|m|mb|g|gb)?"),
    expects: "a size in bytes with an optional unit (k, kb, m, mb, g, gb), 0 for no limit",
  },
  {
    name: "repl-backlog-size",
    pattern: quoted("0*[1-9][0-9]*(b|k|kb|m|mb|g|gb)?"),
    expects: "a size of at least 1 byte with an optional unit (k, kb, m, mb, g, gb)",
  },
  {
    name: "maxmemory-policy",
    pattern: quoted(
      "volatile-lru|allkeys-lru|volatile-lfu|allkeys-lfu|volatile-random|allkeys-random|volatile-ttl|noeviction",
    ),
    expects:
      "one of volatile-lru, allkeys-lru, volatile-lfu, allkeys-lfu, volatile-random, allkeys-random, volatile-ttl, noeviction",
  },
  {
    name: "appendonly",
    pattern: quoted("yes|no"),
    expects: "yes or no",
  },
  {
    name: "appendfsync",
    pattern: quoted("always|everysec|no"),
    expects: "always, everysec or no",
  },
  {
    name: "loglevel",
    pattern: quoted("debug|verbose|notice|warning|nothing"),
    expects: "debug, verbose, notice, warning or nothing",
  },
  {
    name: "databases",
    pattern: quoted("[1-9][0-9]{0,6}"),
    expects: "a whole number from 1",
  },
  {
    name: "timeout",
    // Redis reads whole numbers without leading zeros (string2ll).
    pattern: quoted("0|[1-9][0-9]{0,8}"),
    expects: "a whole number of seconds, 0 for none",
  },
];

/** The refusal for a value of `directive` that does not fit. */
export function valueRefusal(directive: CheckedDirective): string {
  return `spec.config ${directive.name} must be ${directive.expects}`;
}

/** The CEL rule of the CRD that checks `directive` (in the `config` map's validations). */
export function celRule(directive: CheckedDirective): string {
  const key = `'${directive.name}'`;
  const pattern = directive.pattern.replaceAll("\\", "\\\\").replaceAll('"', '\\"');
  return `!(${key} in self) || self[${key}].lowerAscii().matches("${pattern}")`;
}

/** The checked directives whose value in `config` does not fit, with why. */
export function badValues(config: Readonly<Record<string, string>>): string[] {
  return checkedDirectives.flatMap((directive) => {
    const value = config[directive.name];
    if (value === undefined) return [];
    // ASCII only, as CEL's lowerAscii and Redis's strcasecmp: "\u212A" (Kelvin) is no "k".
    const lowered = value.replace(/[A-Z]/g, (c) => c.toLowerCase());
    return new RegExp(directive.pattern).test(lowered) ? [] : [valueRefusal(directive)];
  });
}

/**
 * Whether replicas answer reads while their master link is down, as
 * spec.config sets `replica-serve-stale-data` (or its old name) or Redis's
 * default (yes). A handover turns it off for a moment; this is what it goes
 * back to.
 */
export function servesStaleData(config: Readonly<Record<string, string>> | undefined): boolean {
  // Both names set: redis.conf lists spec.config sorted, and Redis keeps the last, slave-.
  const value = config?.["slave-serve-stale-data"] ?? config?.["replica-serve-stale-data"];
  return value?.replace(/["']/g, "").trim().toLowerCase() !== "no";
}
