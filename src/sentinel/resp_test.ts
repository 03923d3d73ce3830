import assert from "node:assert/strict";
import {
  authenticatedLimits,
  CommandReader,
  encodeReply,
  reply,
  splitInline,
  unauthenticatedLimits,
} from "./resp.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function readAll(text: string, limits = authenticatedLimits) {
  const reader = new CommandReader();
  reader.feed(bytes(text));
  const results = [];
  while (true) {
    const next = reader.next(limits);
    results.push(next);
    if (next.kind !== "command") return results;
  }
}

Deno.test("multibulk commands, pipelined and split anywhere", () => {
  const text = "*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n*1\r\n$4\r\nROLE\r\n";
  assert.deepEqual(readAll(text).map((r) => r.kind === "command" ? r.args : r.kind), [
    ["PING", "hi"],
    ["ROLE"],
    "incomplete",
  ]);
  // Fed one byte at a time, the same commands come out.
  const reader = new CommandReader();
  const commands: string[][] = [];
  for (const byte of bytes(text)) {
    reader.feed(new Uint8Array([byte]));
    const next = reader.next(authenticatedLimits);
    if (next.kind === "command") commands.push(next.args);
  }
  assert.deepEqual(commands, [["PING", "hi"], ["ROLE"]]);
});

Deno.test("binary-safe bulk arguments and UTF-8", () => {
  const [first] = readAll("*2\r\n$4\r\nAUTH\r\n$6\r\np\r\nw\u00e9\r\n");
  assert.deepEqual(first, { kind: "command", args: ["AUTH", "p\r\nw\u00e9"] });
});

Deno.test("inline commands split like redis-server", () => {
  assert.deepEqual(readAll("sentinel get-master-addr-by-name  mymaster\n")[0], {
    kind: "command",
    args: ["sentinel", "get-master-addr-by-name", "mymaster"],
  });
  assert.deepEqual(splitInline(`auth "a b\\x41\\n" 'it\\'s'`), ["auth", "a bA\n", "it's"]);
  assert.equal(splitInline(`auth "open`), undefined);
  assert.equal(splitInline(`auth "a"b`), undefined);
  assert.deepEqual(splitInline("   "), []);
});

Deno.test("malformed frames are protocol errors in redis-server's words", () => {
  const error = (text: string, limits = authenticatedLimits) => {
    const last = readAll(text, limits).at(-1)!;
    return last.kind === "protocolError" ? last.message : last.kind;
  };
  assert.equal(error("*x\r\n"), "ERR Protocol error: invalid multibulk length");
  assert.equal(error("*1\r\n+PING\r\n"), "ERR Protocol error: expected '$', got '+'");
  assert.equal(error("*1\r\n$-5\r\n"), "ERR Protocol error: invalid bulk length");
  assert.equal(error("*1\r\n$999999999\r\n"), "ERR Protocol error: invalid bulk length");
  assert.equal(
    error("*11\r\n", unauthenticatedLimits),
    "ERR Protocol error: unauthenticated multibulk length",
  );
  assert.equal(
    error("*1\r\n$20000\r\n", unauthenticatedLimits),
    "ERR Protocol error: unauthenticated bulk length",
  );
  assert.equal(error("x".repeat(70_000)), "ERR Protocol error: too big inline request");
  assert.equal(error(`*${"1".repeat(70_000)}`), "ERR Protocol error: too big mbulk count string");
  assert.equal(error('ping "a\n'), "ERR Protocol error: unbalanced quotes in request");
});

Deno.test("replies in RESP2 and RESP3", () => {
  const map = reply.map([["proto", reply.int(3)], ["mode", reply.bulk("sentinel")]]);
  assert.equal(encodeReply(map, 2), "*4\r\n$5\r\nproto\r\n:3\r\n$4\r\nmode\r\n$8\r\nsentinel\r\n");
  assert.equal(encodeReply(map, 3), "%2\r\n$5\r\nproto\r\n:3\r\n$4\r\nmode\r\n$8\r\nsentinel\r\n");
  assert.equal(encodeReply(reply.nullArray, 2), "*-1\r\n");
  assert.equal(encodeReply(reply.nullBulk, 2), "$-1\r\n");
  assert.equal(encodeReply(reply.nullArray, 3), "_\r\n");
  assert.equal(encodeReply(reply.push([reply.bulk("a")]), 3), ">1\r\n$1\r\na\r\n");
  assert.equal(encodeReply(reply.push([reply.bulk("a")]), 2), "*1\r\n$1\r\na\r\n");
  assert.equal(encodeReply(reply.bulk("\u00e9"), 2), "$2\r\n\u00e9\r\n");
  // A line break in an error would end the frame early.
  assert.equal(encodeReply(reply.error("ERR a\r\nb"), 2), "-ERR a b\r\n");
});

Deno.test("a big frame in small chunks, then more commands, reads whole", () => {
  const big = "x".repeat(60_000);
  const frame = bytes(`*2\r\n$4\r\nAUTH\r\n$${big.length}\r\n${big}\r\n*1\r\n$4\r\nPING\r\n`);
  const reader = new CommandReader();
  const commands: string[][] = [];
  for (let at = 0; at < frame.length; at += 64) {
    reader.feed(frame.subarray(at, at + 64));
    for (let next = reader.next(authenticatedLimits); next.kind === "command";) {
      commands.push(next.args);
      next = reader.next(authenticatedLimits);
    }
  }
  assert.deepEqual(commands.map((c) => [c[0], c[1]?.length]), [["AUTH", 60_000], [
    "PING",
    undefined,
  ]]);
  assert.equal(reader.pending, 0);
});
