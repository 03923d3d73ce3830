import assert from "node:assert/strict";
import type { Redis } from "../api/redis.ts";
import { nameConflict } from "./name_conflicts.ts";

const at = (name: string, time: string, namespace = "n"): Redis => ({
  metadata: { name, namespace, creationTimestamp: time },
});

Deno.test("nameConflict() leaves a later Redis's Services that an earlier one has to the earlier one", () => {
  const a = at("a", "2026-01-01T00:00:00Z");
  for (const suffix of ["master", "replica", "headless"]) {
    const later = at(`a-${suffix}`, "2026-01-02T00:00:00Z");
    const conflict = nameConflict(later, [a, later]);
    assert.deepEqual(conflict?.services, [`redis-a-${suffix}`]);
    assert.match(conflict?.message ?? "", new RegExp(`redis-a-${suffix}.*Redis a \\(created`));
    assert.equal(nameConflict(a, [a, later]), undefined, `${suffix}: the first keeps its names`);
  }
  // Created after a Redis named with the suffix: the shorter name is the later one, and
  // only its master Service is the other's.
  const first = at("b-master", "2026-01-01T00:00:00Z");
  const second = at("b", "2026-01-02T00:00:00Z");
  assert.deepEqual(nameConflict(second, [first, second])?.services, ["redis-b-master"]);
  assert.equal(nameConflict(first, [first, second]), undefined);
});

Deno.test("nameConflict() leaves distinct Services, other namespaces, Secrets' names and same-second ties settled", () => {
  const a = at("a", "2026-01-01T00:00:00Z");
  assert.equal(nameConflict(at("ab", "2026-01-02T00:00:00Z"), [a]), undefined);
  assert.equal(nameConflict(at("a-master", "2026-01-02T00:00:00Z", "other"), [a]), undefined);
  // redis-a-acl is a Secret of a; Secrets refuse an owner that is not theirs already.
  assert.equal(nameConflict(at("a-acl", "2026-01-02T00:00:00Z"), [a]), undefined);
  const sameSecond = at("a-replica", "2026-01-01T00:00:00Z");
  assert.equal(nameConflict(a, [a, sameSecond]), undefined);
  assert.ok(nameConflict(sameSecond, [a, sameSecond]));
});
