import assert from "node:assert/strict";
import type { Redis } from "../api/redis.ts";
import { nameConflict } from "./name_conflicts.ts";

const at = (name: string, time: string, namespace = "n"): Redis => ({
  metadata: { name, namespace, creationTimestamp: time },
});

Deno.test("nameConflict() refuses a later Redis whose objects take an earlier one's names", () => {
  const a = at("a", "2026-01-01T00:00:00Z");
  for (const suffix of ["master", "replica", "headless", "acl"]) {
    const later = at(`a-${suffix}`, "2026-01-02T00:00:00Z");
    assert.match(nameConflict(later, [a, later]) ?? "", new RegExp(`redis-a-${suffix}.*Redis a `));
    assert.equal(nameConflict(a, [a, later]), undefined, `${suffix}: the first keeps its names`);
  }
  // Created later than a Redis named with the suffix: the shorter name is the later one.
  const first = at("b-master", "2026-01-01T00:00:00Z");
  const second = at("b", "2026-01-02T00:00:00Z");
  assert.match(nameConflict(second, [first, second]) ?? "", /redis-b-master.*Redis b-master/);
  assert.equal(nameConflict(first, [first, second]), undefined);
});

Deno.test("nameConflict() leaves distinct names, other namespaces and same-second ties settled", () => {
  const a = at("a", "2026-01-01T00:00:00Z");
  assert.equal(nameConflict(at("ab", "2026-01-02T00:00:00Z"), [a]), undefined);
  assert.equal(nameConflict(at("a-master", "2026-01-02T00:00:00Z", "other"), [a]), undefined);
  const sameSecond = at("a-acl", "2026-01-01T00:00:00Z");
  assert.equal(nameConflict(a, [a, sameSecond]), undefined);
  assert.ok(nameConflict(sameSecond, [a, sameSecond]));
});
