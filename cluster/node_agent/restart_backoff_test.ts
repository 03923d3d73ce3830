import assert from "node:assert/strict";
import {
  afterRestart,
  type BackoffEntry,
  backoffRemainingMs,
  relistDelayMs,
  requeueDelayMs,
} from "./restart_backoff.ts";

const s = 1000;

Deno.test("the first restart is immediate; then 10, 20, 40 ... s, capped at 300 s", () => {
  let entry: BackoffEntry | undefined;
  let now = 0;
  const waits: number[] = [];
  for (let crash = 0; crash < 8; crash++) {
    now += 2 * s; // runs 2 s, then exits
    const finishedAt = now;
    const wait = backoffRemainingMs(entry, finishedAt, now);
    waits.push(wait / s);
    now += wait;
    entry = afterRestart(entry, finishedAt, now);
  }
  assert.deepEqual(waits, [0, 10, 20, 40, 80, 160, 300, 300]);
});

Deno.test("the back-off window counts from the exit, so a long run uses it up", () => {
  const entry = { backoffMs: 10 * s, lastRestartMs: 0 };
  assert.equal(backoffRemainingMs(entry, 15 * s, 15 * s), 10 * s);
  assert.equal(backoffRemainingMs(entry, 15 * s, 22 * s), 3 * s);
  assert.equal(backoffRemainingMs(entry, 15 * s, 26 * s), 0);
  // Restarting then still doubles: the entry has not expired.
  assert.equal(afterRestart(entry, 15 * s, 26 * s).backoffMs, 20 * s);
});

Deno.test("an exit more than 10 minutes after the last restart starts over", () => {
  const entry = { backoffMs: 300 * s, lastRestartMs: 0 };
  assert.equal(backoffRemainingMs(entry, 601 * s, 601 * s), 0);
  assert.deepEqual(afterRestart(entry, 601 * s, 601 * s), {
    backoffMs: 10 * s,
    lastRestartMs: 601 * s,
  });
  assert.equal(backoffRemainingMs(entry, 599 * s, 599 * s), 300 * s);
});

Deno.test("requeue and relist delays", () => {
  assert.equal(requeueDelayMs(10 * s, 0), 10 * s);
  assert.equal(requeueDelayMs(10 * s, 1), 15 * s);
  assert.equal(requeueDelayMs(200 * s, 0), 60 * s);
  assert.equal(relistDelayMs(12_300), 700);
  assert.equal(relistDelayMs(12_000), 1000);
});
