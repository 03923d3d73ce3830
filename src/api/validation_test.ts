import assert from "node:assert/strict";
import { parse } from "yaml";
import type { Redis } from "./redis.ts";
import { trickSpellings } from "../../tests/fixtures/directive_spellings.ts";
import { directiveNamePattern, managedDirectives, specProblems } from "./validation.ts";

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
    assert.equal(specProblems(withConfig({ maxmemory: value })).length, 1, JSON.stringify(value));
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
