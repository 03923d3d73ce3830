/** The instance monitor against real redis-server processes: reset and silence are reported. */
import assert from "node:assert/strict";
import { type Evidence, InstanceMonitor } from "../../src/redis/monitor.ts";
import { startRedisServer } from "./redis_server.ts";

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("InstanceMonitor reports a killed instance at once and a stopped one after the window", async () => {
  const killed = await startRedisServer();
  const stopped = await startRedisServer();
  const seen: Array<{ port: string; evidence: Evidence; at: number }> = [];
  const monitor = new InstanceMonitor({
    pingIntervalMs: 100,
    onEvidence: (ip, evidence) => seen.push({ port: ip, evidence, at: Date.now() }),
  });
  // Both servers listen on 127.0.0.1; the monitor keys by address, so watch them through two aliases.
  monitor.sync(["127.0.0.1"], killed.port, 600);
  const other = new InstanceMonitor({
    pingIntervalMs: 100,
    onEvidence: (_ip, evidence) => seen.push({ port: "stopped", evidence, at: Date.now() }),
  });
  other.sync(["127.0.0.1"], stopped.port, 600);
  try {
    await until(() => monitor.answering("127.0.0.1") && other.answering("127.0.0.1"));
    const killedAt = Date.now();
    killed.process.kill("SIGKILL");
    await until(() => seen.some((s) => s.port === "127.0.0.1" && s.evidence === "reset"));
    const reset = seen.find((s) => s.evidence === "reset")!;
    assert.ok(reset.at - killedAt < 300, `reset noticed after ${reset.at - killedAt} ms`);

    const stoppedAt = Date.now();
    stopped.process.kill("SIGSTOP");
    await until(() => seen.some((s) => s.port === "stopped" && s.evidence === "silent"));
    const silent = seen.find((s) => s.port === "stopped")!;
    assert.ok(silent.at - stoppedAt >= 500, "not before the window");
    assert.ok(silent.at - stoppedAt < 1200, `silence noticed after ${silent.at - stoppedAt} ms`);
    assert.ok(other.silentForMs("127.0.0.1")! >= 600);
    stopped.process.kill("SIGCONT");
    await until(() => other.answering("127.0.0.1"));
    assert.equal(other.silentForMs("127.0.0.1"), 0);
  } finally {
    monitor.close();
    other.close();
    await killed.stop();
    await stopped.stop();
  }
});

Deno.test("InstanceMonitor replaces a client that ended within the detection window", async () => {
  const server = await startRedisServer();
  const renewed: Array<{ at: number; status: string }> = [];
  const seen: Evidence[] = [];
  // renewAfterMs stays at its 5 s default: a client that ended must not wait for it,
  // or a live master would be reported silent (window 1 s) and skipped by the passes.
  const monitor = new InstanceMonitor({
    pingIntervalMs: 100,
    onEvidence: (_ip, evidence) => seen.push(evidence),
    onRenew: (_ip, status) => renewed.push({ at: Date.now(), status }),
  });
  monitor.sync(["127.0.0.1"], server.port, 1000);
  try {
    await until(() => monitor.answering("127.0.0.1"));
    const endedAt = Date.now();
    // A client that stopped reconnecting: closed by hand, ioredis never tries again.
    monitor.connectionOf("127.0.0.1")!.disconnect();
    await until(() => renewed.length > 0, 3000);
    assert.equal(renewed[0]!.status, "end");
    assert.ok(renewed[0]!.at - endedAt < 600, `renewed after ${renewed[0]!.at - endedAt} ms`);
    await until(() => monitor.answering("127.0.0.1"), 3000);
    assert.ok(!seen.includes("silent"), `evidence: ${seen.join(", ")}`);
  } finally {
    monitor.close();
    await server.stop();
  }
});

Deno.test("InstanceMonitor keeps a dead instance silent across renewals, and calls only the first renewal of a silence first", async () => {
  const server = await startRedisServer();
  const firsts: boolean[] = [];
  const monitor = new InstanceMonitor({
    pingIntervalMs: 100,
    renewAfterMs: 300,
    onEvidence: () => {},
    onRenew: (_ip, _status, first) => firsts.push(first),
  });
  monitor.sync(["127.0.0.1"], server.port, 200);
  try {
    await until(() => monitor.answering("127.0.0.1"));
    // A loaded machine may renew once before the first answer: count from here.
    const start = firsts.length;
    server.process.kill("SIGSTOP");
    await new Promise((r) => setTimeout(r, 1500));
    // Several renewals have happened; the silence still counts from the last answer.
    assert.ok(monitor.silentForMs("127.0.0.1")! >= 1300, `${monitor.silentForMs("127.0.0.1")}`);
    const ofThisSilence = firsts.slice(start);
    assert.ok(ofThisSilence.length >= 2, `renewals: ${ofThisSilence.length}`);
    assert.deepEqual(ofThisSilence, [true, ...ofThisSilence.slice(1).map(() => false)]);
    server.process.kill("SIGCONT");
    await until(() => monitor.answering("127.0.0.1"), 3000);
    // An answer ends the silence: the next one's first renewal is reported as first again.
    const before = firsts.length;
    server.process.kill("SIGSTOP");
    await until(() => firsts.length > before, 3000);
    server.process.kill("SIGCONT");
    assert.equal(firsts[before], true);
  } finally {
    monitor.close();
    await server.stop();
  }
});
