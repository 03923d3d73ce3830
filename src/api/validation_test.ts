import assert from "node:assert/strict";
import { parse } from "yaml";
import type { Redis } from "./redis.ts";
import { trickSpellings } from "../../tests/fixtures/directive_spellings.ts";
import {
  badValues,
  celRule,
  checkedDirectives,
  servesStaleData,
  valueRefusal,
} from "./config_values.ts";
import {
  directiveNamePattern,
  managedDirectives,
  maximumReplicas,
  passwordRulePattern,
  specProblems,
} from "./validation.ts";

const withConfig = (config: Record<string, string>): Redis => ({
  metadata: { name: "cache", namespace: "prod" },
  spec: { replicas: 3, config },
});

Deno.test("specProblems() accepts ordinary directives", () => {
  assert.deepEqual(
    specProblems(withConfig({ maxmemory: "64mb", "maxmemory-policy": "allkeys-lru", save: "" })),
    [],
  );
});

Deno.test("specProblems() refuses every managed directive, in every spelling Redis reads as it", () => {
  for (const name of managedDirectives) {
    assert.equal(specProblems(withConfig({ [name]: "0" })).length, 1, name);
    for (const spelling of trickSpellings(name)) {
      assert.ok(
        specProblems(withConfig({ [spelling]: "0" })).length > 0,
        `${JSON.stringify(spelling)} must be refused`,
      );
    }
  }
});

Deno.test("specProblems() refuses values with line breaks or NUL", () => {
  for (const value of ["1\nreplicaof 10.0.0.1 6379", "1\rx", "a\0b"]) {
    assert.equal(
      specProblems(withConfig({ "notify-keyspace-events": value })).length,
      1,
      JSON.stringify(value),
    );
  }
});

Deno.test("specProblems() refuses a password Secret named like the operator's own copy", () => {
  const redis: Redis = {
    metadata: { name: "cache", namespace: "prod" },
    spec: { password: { secretKeyRef: { name: "redis-cache", key: "password" } } },
  };
  assert.match(specProblems(redis)[0] ?? "", /Secret redis-cache/);
  const other = { ...redis, spec: { password: { secretKeyRef: { name: "mine", key: "p" } } } };
  assert.deepEqual(specProblems(other), []);
});

Deno.test("specProblems() refuses minReplicasToWrite that no replica count can meet", () => {
  const redis = (replicas: number, minReplicasToWrite: number): Redis => ({
    metadata: { name: "cache", namespace: "prod" },
    spec: { replicas, failover: { minReplicasToWrite } },
  });
  assert.equal(specProblems(redis(3, 3)).length, 1);
  assert.deepEqual(specProblems(redis(3, 2)), []);
  assert.deepEqual(specProblems(redis(5, 4)), []);
});

Deno.test("the CRD's CEL rules name the same managed directives and the same name pattern", async () => {
  const crd = parse(
    await Deno.readTextFile(new URL("../../deploy/crd/redis.yaml", import.meta.url)),
  );
  const config = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.config;
  const rules: string[] = config["x-kubernetes-validations"].map((v: { rule: string }) => v.rule);
  const denied = rules.find((r) => r.includes("'port'"))!;
  const listed = [...denied.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]);
  assert.deepEqual([...listed].sort(), [...managedDirectives].sort());
  assert.ok(rules.some((r) => r.includes(`k.matches('${directiveNamePattern.source}')`)));
});

Deno.test("specProblems() refuses values Redis cannot split, and a maxclients that locks the operator out", () => {
  for (const value of ['"unbalanced', "'x", '"a"b', "a 'b"]) {
    assert.equal(specProblems(withConfig({ "notify-keyspace-events": value })).length, 1, value);
  }
  for (const value of ['"quoted value"', "'single'", 'a "b c" d', '"esc \\" quote"', "900 1", ""]) {
    assert.deepEqual(specProblems(withConfig({ save: value })), [], value);
  }
  assert.equal(specProblems(withConfig({ maxclients: "1" })).length, 1);
  assert.equal(specProblems(withConfig({ maxclients: "lots" })).length, 1);
  assert.deepEqual(specProblems(withConfig({ maxclients: "10000" })), []);
});

Deno.test("the CRD checks the same config values, and the same most replicas, as the operator", async () => {
  const crd = parse(
    await Deno.readTextFile(new URL("../../deploy/crd/redis.yaml", import.meta.url)),
  );
  const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  const validations: { rule: string; message: string }[] =
    spec.properties.config["x-kubernetes-validations"];
  for (const directive of checkedDirectives) {
    const rule = validations.find((v) => v.rule === celRule(directive));
    assert.ok(rule, directive.name);
    assert.equal(rule.message, valueRefusal(directive));
  }
  assert.equal(spec.properties.replicas.maximum, maximumReplicas);
});

Deno.test("specProblems() refuses config values Redis would refuse at start, with what they take", () => {
  const refused: Record<string, string[]> = {
    maxmemory: ["lots", "1.5gb", "-1", "100tb", "100 mb", ""],
    "maxmemory-policy": ["lru", "allkeys_lru", "allkeys-lru noeviction"],
    appendonly: ["true", "1", "on"],
    appendfsync: ["sometimes"],
    loglevel: ["info"],
    databases: ["0", "many", "-1"],
    timeout: ["1s", "-1", "0100"],
    "repl-backlog-size": ["big", "0", "0mb"],
  };
  for (const [name, values] of Object.entries(refused)) {
    for (const value of values) {
      const problems = specProblems(withConfig({ [name]: value })).join(";");
      assert.match(problems, new RegExp(`spec.config ${name} must be`), `${name} ${value}`);
    }
  }
  const accepted: Record<string, string[]> = {
    maxmemory: ["0", "100mb", "2GB", "1g", "1024", "512k", "10b", '"100mb"', "'1gb'"],
    "maxmemory-policy": ["allkeys-lru", "NOEVICTION", "volatile-ttl"],
    appendonly: ["yes", "NO"],
    appendfsync: ["everysec"],
    loglevel: ["notice", "Warning"],
    databases: ["1", "16"],
    timeout: ["0", "300"],
    "repl-backlog-size": ["64mb"],
  };
  for (const [name, values] of Object.entries(accepted)) {
    for (const value of values) {
      assert.deepEqual(specProblems(withConfig({ [name]: value })), [], `${name} ${value}`);
    }
  }
  assert.equal(badValues({ maxmemory: "100\u212Ab" }).length, 1, "only ASCII is lowercased");
});

Deno.test("specProblems() refuses more than the most replicas", () => {
  assert.deepEqual(specProblems({ spec: { replicas: maximumReplicas } }), []);
  assert.match(specProblems({ spec: { replicas: 100000 } }).join(), /spec.replicas 100000/);
});

Deno.test("specProblems() refuses ACL rules that set passwords, reserved user names and the operator's Secrets", () => {
  const withUser = (name: string, rules: string, secret = "app-pw") => ({
    metadata: { name: "cache", namespace: "ns" },
    spec: {
      acl: { users: [{ name, rules, password: { secretKeyRef: { name: secret, key: "pw" } } }] },
    },
  });
  assert.deepEqual(
    specProblems(withUser("app", "~app:* +@all resetkeys resetchannels -debug")),
    [],
  );
  assert.deepEqual(specProblems(withUser("app", "(~log:* +xadd) on")), []);
  for (const rules of [">pw", "~* <pw", "#abc", "!abc", "NOPASS", "~* resetpass", "reset ~*"]) {
    assert.equal(specProblems(withUser("app", rules)).length, 1, rules);
  }
  for (const rules of ["~*\n+@all", '~a"b +@all', "~a'b", "~a\\b", "~*\f+@all", "~*\v>pw"]) {
    assert.equal(specProblems(withUser("app", rules)).length, 1, JSON.stringify(rules));
  }
  assert.equal(specProblems(withUser("default", "~*")).length, 1);
  assert.equal(specProblems(withUser("redis-operator-x", "~*")).length, 1);
  assert.equal(specProblems(withUser("app", "~*", "redis-cache-acl")).length, 1);
  assert.equal(specProblems(withUser("app", "~*", "redis-cache")).length, 1);
});

Deno.test("the CRD refuses password rules with the operator's pattern", async () => {
  const crd = parse(
    await Deno.readTextFile(new URL("../../deploy/crd/redis.yaml", import.meta.url)),
  );
  const users = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.acl
    .properties.users;
  const rules: string[] = users.items.properties.rules["x-kubernetes-validations"]
    .map((v: { rule: string }) => v.rule);
  // CEL writes a tab as \t inside its string literal.
  const source = passwordRulePattern.source;
  assert.ok(rules.includes(`!self.matches('(?i)${source}')`), rules.join("\n"));
});

Deno.test("servesStaleData() reads replica-serve-stale-data as Redis does, yes by default", () => {
  assert.equal(servesStaleData(undefined), true);
  assert.equal(servesStaleData({}), true);
  assert.equal(servesStaleData({ "replica-serve-stale-data": "no" }), false);
  assert.equal(servesStaleData({ "replica-serve-stale-data": '"NO"' }), false);
  assert.equal(servesStaleData({ "slave-serve-stale-data": "no" }), false);
  assert.equal(servesStaleData({ "replica-serve-stale-data": "yes" }), true);
  assert.equal(servesStaleData({ "replica-serve-stale-data": " no " }), false, "Redis trims");
  assert.equal(
    servesStaleData({ "replica-serve-stale-data": "no", "slave-serve-stale-data": "yes" }),
    true,
    "the later line of redis.conf wins",
  );
});
