/**
 * The history tool (tests/history, issue 12): the recorder's history of
 * concurrent clients against a real redis-server is linearizable to Porcupine,
 * and a history with a stale read is not, with the visualisation written.
 */
import assert from "node:assert/strict";
import { writerPaths } from "../chaos/app_writers.ts";
import { startRedisServer } from "./redis_server.ts";

async function historyTool(): Promise<string> {
  const tool = (await writerPaths()).HISTORY_TOOL;
  assert.ok(tool, "tests/clients/prepare.sh built the history tool");
  return tool;
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
    const recorder = new Deno.Command(tool, {
      args: ["record", `127.0.0.1:${server.port}`, "5", "3"],
      stdout: "piped",
    }).spawn();
    await new Promise((r) => setTimeout(r, 1500));
    recorder.kill("SIGTERM");
    const { stdout } = await recorder.output();
    const lines = new TextDecoder().decode(stdout).trim().split("\n");
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
