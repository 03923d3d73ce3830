import assert from "node:assert/strict";
import { delay } from "../async/delay.ts";
import { WorkQueue } from "./work_queue.ts";

Deno.test("WorkQueue merges duplicate adds of a queued key", async () => {
  const stop = new AbortController();
  const seen: string[] = [];
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  const queue = new WorkQueue(async (key) => {
    seen.push(key);
    if (key === "blocker") await gate;
    return {};
  }, { concurrency: 1, signal: stop.signal });
  queue.add("blocker");
  queue.add("a");
  queue.add("b");
  queue.add("b");
  queue.add("a");
  release();
  await queue.idle();
  assert.deepEqual(seen, ["blocker", "a", "b"]);
  stop.abort();
});

Deno.test("WorkQueue never runs one key twice at once, and reruns a key added while it ran", async () => {
  const stop = new AbortController();
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const queue = new WorkQueue(async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    runs++;
    await delay(20);
    running--;
    return {};
  }, { concurrency: 4, signal: stop.signal });
  queue.add("k");
  await delay(5);
  queue.add("k");
  queue.add("k");
  await queue.idle();
  assert.equal(maxRunning, 1);
  assert.equal(runs, 2, "the adds during the run merge into one more run");
  stop.abort();
});

Deno.test("WorkQueue runs different keys concurrently up to the limit", async () => {
  const stop = new AbortController();
  let running = 0;
  let maxRunning = 0;
  const queue = new WorkQueue(async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await delay(20);
    running--;
    return {};
  }, { concurrency: 3, signal: stop.signal });
  for (const key of ["a", "b", "c", "d", "e"]) queue.add(key);
  await queue.idle();
  assert.equal(maxRunning, 3);
  stop.abort();
});

Deno.test("WorkQueue retries failures with growing back-off and forgets them after success", async () => {
  const stop = new AbortController();
  const times: number[] = [];
  const retries: number[] = [];
  const queue = new WorkQueue(() => {
    times.push(Date.now());
    if (times.length < 3) return Promise.reject(new Error("boom"));
    return Promise.resolve({});
  }, {
    concurrency: 1,
    signal: stop.signal,
    baseBackoffMs: 20,
    onError: (_k, _e, ms) => retries.push(ms),
  });
  queue.add("x");
  while (times.length < 3) await delay(5);
  assert.deepEqual(retries, [20, 40]);
  assert.ok(times[2]! - times[1]! >= 35);
  stop.abort();
});

Deno.test("WorkQueue honours requeueAfterMs", async () => {
  const stop = new AbortController();
  let runs = 0;
  const queue = new WorkQueue(() => {
    runs++;
    return Promise.resolve(runs === 1 ? { requeueAfterMs: 10 } : {});
  }, { concurrency: 1, signal: stop.signal });
  queue.add("x");
  while (runs < 2) await delay(5);
  assert.equal(runs, 2);
  stop.abort();
});
