import assert from "node:assert/strict";
import { execOptions, execStatus, frame, streamsOpenedFirst } from "./exec_protocol.ts";

Deno.test("execOptions() reads kubectl's query; a TTY has no stderr", () => {
  const query = new URLSearchParams(
    "command=redis-cli&command=ping&input=1&output=1&error=1&tty=1",
  );
  assert.deepEqual(execOptions(query), {
    command: ["redis-cli", "ping"],
    stdin: true,
    stdout: true,
    stderr: false,
    tty: true,
  });
  assert.equal(execOptions(new URLSearchParams("output=1")), "missing command");
  assert.match(String(execOptions(new URLSearchParams("command=ls"))), /at least 1/);
});

Deno.test("the first message opens the lowest stream asked for; frames carry a channel byte", () => {
  const base = { command: ["x"], stdin: false, tty: false };
  assert.equal(streamsOpenedFirst({ ...base, stdout: true, stderr: true }), 1);
  assert.equal(streamsOpenedFirst({ ...base, stdout: false, stderr: true }), 2);
  assert.deepEqual([...frame(2, new Uint8Array([7, 8]))], [2, 7, 8]);
});

Deno.test("execStatus(): a non-zero exit is a Failure whose cause carries the code kubectl exits with", () => {
  assert.deepEqual(execStatus(0), { metadata: {}, status: "Success" });
  const failed = execStatus(3) as { reason: string; details: { causes: unknown[] } };
  assert.equal(failed.reason, "NonZeroExitCode");
  assert.deepEqual(failed.details.causes, [{ reason: "ExitCode", message: "3" }]);
});
