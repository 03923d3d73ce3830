import assert from "node:assert/strict";
import { failureDigest } from "./failure_digest.ts";

const output = [
  "all pods ok ... \x1b[32mok\x1b[0m",
  "",
  "\x1b[0m\x1b[1m\x1b[37m\x1b[41m ERRORS \x1b[0m",
  "",
  "all pods but one deleted => ./tests/e2e/failover_test.ts:54:6",
  "error: AssertionError: the only instance holding the data became the master",
  "",
  "+ actual - expected",
  "",
  "+ 'redis-keep-0'",
  "- 'redis-keep-2'",
  "    assert.equal(",
  "           ^",
  "    at file:///work/main/tests/e2e/failover_test.ts:90:12",
  "    at async innerWrapped (ext:cli/40_test.js:300:5)",
  "",
  "planned => ./tests/chaos/planned_test.ts:52:6",
  "error: Error: Timed out after 90000 ms waiting for Ready",
  "    at file:///work/main/tests/e2e/operator.ts:77:10",
  "",
  " FAILURES ",
  "",
  "all pods but one deleted => ./tests/e2e/failover_test.ts:54:6",
  "planned => ./tests/chaos/planned_test.ts:52:6",
].join("\n");

Deno.test("failureDigest() keeps each failed test's location and message, not its stack", () => {
  assert.deepEqual(failureDigest(output), [
    "all pods but one deleted => ./tests/e2e/failover_test.ts:54:6",
    "    error: AssertionError: the only instance holding the data became the master",
    "    + actual - expected",
    "    + 'redis-keep-0'",
    "    - 'redis-keep-2'",
    "planned => ./tests/chaos/planned_test.ts:52:6",
    "    error: Error: Timed out after 90000 ms waiting for Ready",
  ]);
});

Deno.test("failureDigest() bounds its size and says how many failures it left out", () => {
  assert.deepEqual(
    failureDigest(output, { linesPerFailure: 1, lineLength: 20, failures: 1 }),
    [
      "all pods but one del…",
      "    error: AssertionErro…",
      "(1 more failed tests above)",
    ],
  );
});

Deno.test("failureDigest() is empty for a run without failures", () => {
  assert.deepEqual(failureDigest("ok | 3 passed | 0 failed\n"), []);
});
