import assert from "node:assert/strict";
import { logSlice } from "./log_slice.ts";

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
