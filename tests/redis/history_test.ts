/**
 * The history tool (tests/history, issue 12): the recorder's history of
 * concurrent clients against a real redis-server is linearizable to Porcupine,
 * and a history with a stale read is not, with the visualisation written; a
 * write lost in a failover is told apart from other anomalies.
 */
import assert from "node:assert/strict";
import { writerPaths } from "../chaos/app_writers.ts";
import { type HistoryOp, readHistory, writeHistory } from "../chaos/history_recorder.ts";
import { allowAsyncLoss } from "../faults/async_allowance.ts";
import { startRedisServer } from "./redis_server.ts";

async function historyTool(): Promise<string> {
  const tool = (await writerPaths()).HISTORY_TOOL;
  assert.ok(tool, "tests/clients/prepare.sh built the history tool");
  return tool;
}

/** The history lines the recorder writes against the redis-server on `port` in `ms`. */
async function record(tool: string, port: number, args: string[], ms: number): Promise<string[]> {
  const recorder = new Deno.Command(tool, {
    args: ["record", `127.0.0.1:${port}`, ...args],
    stdout: "piped",
  }).spawn();
  // Read as it comes: a full pipe would hold the clients back.
  const output = recorder.output();
  await new Promise((r) => setTimeout(r, ms));
  recorder.kill("SIGTERM");
  const { stdout } = await output;
  return new TextDecoder().decode(stdout).trim().split("\n");
}

async function check(tool: string, history: string, html: string) {
  const output = await new Deno.Command(tool, { args: ["check", history, html] }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

Deno.test("history: five clients against one redis-server make a linearizable history", async () => {
  const tool = await historyTool();
  const server = await startRedisServer();
  const dir = await Deno.makeTempDir({ prefix: "history-" });
  try {
    const lines = await record(tool, server.port, ["5", "3"], 1500);
    const ops = lines.map((line) => JSON.parse(line));
    assert.ok(ops.length > 100, `${ops.length} operations`);
    assert.deepEqual(new Set(ops.map((op) => op.client)), new Set([0, 1, 2, 3, 4]));
    assert.deepEqual(new Set(ops.map((op) => op.kind)), new Set(["read", "write", "cas"]));
    assert.ok(ops.every((op) => op.result === "ok" && op.invoke <= op.done));
    await Deno.writeTextFile(`${dir}/history.jsonl`, lines.join("\n") + "\n");
    const verdict = await check(tool, `${dir}/history.jsonl`, `${dir}/history.html`);
    assert.equal(verdict.result, "Ok");
    assert.equal(verdict.operations, ops.length);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history: with rotate and rate, clients move to new keys each period, read the last period's too, and keep their pace", async () => {
  const tool = await historyTool();
  const server = await startRedisServer();
  const dir = await Deno.makeTempDir({ prefix: "history-" });
  try {
    const lines = await record(tool, server.port, ["4", "3", "rotate=1", "rate=100"], 2500);
    const ops: HistoryOp[] = lines.map((line) => JSON.parse(line));
    const period = (op: HistoryOp) => Number(/^h:(\d+):[0-2]$/.exec(op.key)![1]);
    assert.deepEqual(new Set(ops.map(period)), new Set([0, 1, 2]), "periods of 1 s: 0, 1, 2");
    for (let client = 0; client < 4; client++) {
      const own = ops.filter((op) => op.client === client);
      // 100 a second for 2.5 s: an unpaced client does thousands.
      assert.ok(own.length > 50 && own.length <= 252, `client ${client}: ${own.length} operations`);
    }
    // A read of the period before, after a write in the newer one: the same client moved on.
    const readsBack = ops.filter((op, i) =>
      op.kind === "read" &&
      ops.slice(0, i).some((o) => o.client === op.client && period(o) > period(op))
    );
    assert.ok(readsBack.length > 0, "some reads look at the last period's keys");
    assert.ok(
      ops.every((op) =>
        op.kind === "read" || period(op) === Math.max(
            ...ops.filter((o) => o.client === op.client && o.invoke <= op.invoke).map(period),
          )
      ),
      "writes and compare-and-sets only on the current period's keys",
    );
    await Deno.writeTextFile(`${dir}/history.jsonl`, lines.join("\n") + "\n");
    const verdict = await check(tool, `${dir}/history.jsonl`, `${dir}/history.html`);
    assert.equal(verdict.result, "Ok");
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history: a stale read is not linearizable, a write with no answer may have happened", async () => {
  const tool = await historyTool();
  const dir = await Deno.makeTempDir({ prefix: "history-" });
  try {
    const fixture = new URL("../fixtures/histories/stale_read.jsonl", import.meta.url).pathname;
    const verdict = await check(tool, fixture, `${dir}/stale.html`);
    assert.equal(verdict.result, "Illegal");
    // h:0 read nothing after a write had completed; h:1's unknown write was read later: legal.
    assert.deepEqual(verdict.illegalKeys, ["h:0"]);
    assert.match(await Deno.readTextFile(`${dir}/stale.html`), /<html/i);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history: a write lost in a failover is illegal, legal once the failover's window is allowed; a stale read outside it stays illegal", async () => {
  const tool = await historyTool();
  const dir = await Deno.makeTempDir({ prefix: "history-" });
  const ms = 1e6;
  const op = (o: Partial<HistoryOp> & Pick<HistoryOp, "kind" | "key" | "invoke" | "done">) => ({
    client: 0,
    result: "ok" as const,
    ...o,
  });
  try {
    const history: HistoryOp[] = [
      // h:0: "lost" acknowledged just before the failover at 1000 ms, read on the old
      // master, then gone: what asynchronous replication allows.
      op({ kind: "write", key: "h:0", value: "a", invoke: 0, done: 100 * ms }),
      op({ client: 1, kind: "write", key: "h:0", value: "lost", invoke: 800 * ms, done: 900 * ms }),
      op({ client: 2, kind: "read", key: "h:0", read: "lost", invoke: 950 * ms, done: 960 * ms }),
      op({ client: 1, kind: "read", key: "h:0", read: "a", invoke: 2000 * ms, done: 2010 * ms }),
      // h:1: a stale read long after the failover: not what it allows.
      op({ kind: "write", key: "h:1", value: "b", invoke: 2500 * ms, done: 2600 * ms }),
      op({ client: 2, kind: "read", key: "h:1", read: "", invoke: 3000 * ms, done: 3010 * ms }),
    ];
    await writeHistory(`${dir}/raw.jsonl`, history);
    const raw = await check(tool, `${dir}/raw.jsonl`, `${dir}/raw.html`);
    assert.equal(raw.result, "Illegal");
    assert.deepEqual(raw.illegalKeys, ["h:0", "h:1"]);
    const allowed = allowAsyncLoss(history, [{ from: 500, to: 1500 }]);
    assert.equal(allowed.unobservedWrites, 1);
    await writeHistory(`${dir}/allowed.jsonl`, allowed.ops);
    const verdict = await check(tool, `${dir}/allowed.jsonl`, `${dir}/allowed.html`);
    assert.equal(verdict.result, "Illegal");
    assert.deepEqual(verdict.illegalKeys, ["h:1"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history: writes of unknown outcome nobody saw are left out, so a stale read among many of them is found at once", async () => {
  const tool = await historyTool();
  const dir = await Deno.makeTempDir({ prefix: "history-" });
  try {
    // What a frozen master leaves: many writes that timed out, whose values nothing read.
    const history: HistoryOp[] = [
      { client: 0, kind: "write", key: "h:0", value: "0-1", invoke: 100, done: 200, result: "ok" },
      ...Array.from({ length: 24 }, (_, i): HistoryOp => ({
        client: i + 1,
        kind: i % 3 === 0 ? "cas" : "write",
        key: "h:0",
        value: `${i + 1}-1`,
        ...(i % 3 === 0 ? { expect: "0-1" } : {}),
        invoke: 300 + i,
        done: 2_300 + i,
        result: "unknown",
      })),
      { client: 0, kind: "read", key: "h:0", invoke: 400, done: 500, result: "ok", read: "0-1" },
      // Stale: "" after "0-1" was written and read.
      { client: 0, kind: "read", key: "h:0", invoke: 600, done: 700, result: "ok", read: "" },
    ];
    await writeHistory(`${dir}/history.jsonl`, history);
    const started = Date.now();
    const verdict = await check(tool, `${dir}/history.jsonl`, `${dir}/history.html`);
    assert.equal(verdict.result, "Illegal", verdict.note);
    assert.equal(verdict.unobservedUnknown, 24);
    console.log(`checked in ${Date.now() - started} ms`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeHistory() and readHistory() keep every operation, across write chunks and read buffers", async () => {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    const ops: HistoryOp[] = Array.from({ length: 25_003 }, (_, i) => ({
      client: i % 7,
      kind: "write",
      key: `h:${i % 40}`,
      value: `${i % 7}-${i}`,
      invoke: i * 10,
      done: i * 10 + 5,
      result: "ok",
    }));
    await writeHistory(file, ops);
    assert.deepEqual(await readHistory(file), ops);
  } finally {
    await Deno.remove(file);
  }
});
