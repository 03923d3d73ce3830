import assert from "node:assert/strict";
import { maxmemoryProblem, parseRedisMemory } from "./memory_limit.ts";

Deno.test("parseRedisMemory() reads Redis's units", () => {
  assert.equal(parseRedisMemory("64mb"), 64 * 2 ** 20);
  assert.equal(parseRedisMemory("64MB"), 64 * 2 ** 20);
  assert.equal(parseRedisMemory("1g"), 1e9);
  assert.equal(parseRedisMemory("1gb"), 2 ** 30);
  assert.equal(parseRedisMemory("100k"), 1e5);
  assert.equal(parseRedisMemory("12345"), 12345);
  assert.equal(parseRedisMemory('"64mb"'), 64 * 2 ** 20);
  assert.equal(parseRedisMemory("lots"), undefined);
});

Deno.test("maxmemoryProblem() asks for maxmemory well below the memory limit", () => {
  assert.equal(maxmemoryProblem({ maxmemory: "64mb" }, undefined), undefined, "no limit");
  assert.equal(maxmemoryProblem({ maxmemory: "64mb" }, "256Mi"), undefined);
  assert.equal(maxmemoryProblem({ maxmemory: "200mb" }, "256Mi"), undefined, "78%: fits");
  assert.match(maxmemoryProblem({}, "256Mi") ?? "", /not set.*about 192mb/);
  assert.match(maxmemoryProblem({ maxmemory: "0" }, "256Mi") ?? "", /not set/);
  assert.match(maxmemoryProblem({ maxmemory: "256mb" }, "256Mi") ?? "", /100% of.*about 192mb/);
  assert.match(maxmemoryProblem({ maxmemory: "1gb" }, 268435456) ?? "", /400%/);
  assert.equal(maxmemoryProblem({ maxmemory: "lots" }, "256Mi"), undefined, "Redis refuses it");
});
