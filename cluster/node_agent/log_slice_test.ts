import assert from "node:assert/strict";
import { logSlice, terminationMessage } from "./log_slice.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("logSlice(): --tail counts lines from the end, a final newline ends the last line", () => {
  const log = bytes("a\nb\nc\n");
  assert.equal(text(logSlice(log, { tailLines: 2 })), "b\nc\n");
  assert.equal(text(logSlice(log, { tailLines: 1 })), "c\n");
  assert.equal(text(logSlice(log, { tailLines: 9 })), "a\nb\nc\n");
  assert.equal(text(logSlice(log, { tailLines: 0 })), "");
  assert.equal(text(logSlice(bytes("a\nb"), { tailLines: 1 })), "b");
  assert.equal(text(logSlice(log, {})), "a\nb\nc\n");
});

Deno.test("logSlice(): --limit-bytes applies after --tail", () => {
  assert.equal(text(logSlice(bytes("a\nbbbb\ncc\n"), { tailLines: 2, limitBytes: 3 })), "bbb");
});

Deno.test("terminationMessage(): the end of the log after a failure, only with FallbackToLogsOnError", () => {
  const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n") + "\n";
  const message = terminationMessage(bytes(lines), "FallbackToLogsOnError", 1);
  assert.ok(message?.startsWith("line 20\n"), "the last 80 lines");
  assert.ok(message?.endsWith("line 99\n"));
  assert.equal(terminationMessage(bytes(lines), "File", 1), undefined);
  assert.equal(terminationMessage(bytes(lines), undefined, 1), undefined);
  assert.equal(terminationMessage(bytes(lines), "FallbackToLogsOnError", 0), undefined);
  assert.equal(terminationMessage(bytes(""), "FallbackToLogsOnError", 1), undefined);
  const long = "x".repeat(5000) + "\n";
  assert.equal(terminationMessage(bytes(long), "FallbackToLogsOnError", 137)?.length, 2048);
});
