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

Deno.test("InstanceMonitor replaces a connection that gave up, and keeps the silence it measured", async () => {
  const server = await startRedisServer();
  const renewed: string[] = [];
  const monitor = new InstanceMonitor({
    pingIntervalMs: 100,
    renewAfterMs: 600,
    onEvidence: () => {},
    onRenew: (_ip, status) => renewed.push(status),
  });
  monitor.sync(["127.0.0.1"], server.port, 300);
  try {
    await until(() => monitor.answering("127.0.0.1"));
    // A client that stopped reconnecting: closed by hand, ioredis never tries again.
    monitor.connectionOf("127.0.0.1")!.disconnect();
    await until(() => (monitor.silentForMs("127.0.0.1") ?? 0) >= 400);
    const silentBefore = monitor.silentForMs("127.0.0.1")!;
    await until(() => renewed.length > 0, 3000);
    // Silence is not reset by the renewal: a dead instance's detection window runs on.
    assert.ok(monitor.silentForMs("127.0.0.1")! >= silentBefore || monitor.answering("127.0.0.1"));
    await until(() => monitor.answering("127.0.0.1"), 3000);
    assert.equal(renewed[0], "end");
  } finally {
    monitor.close();
    await server.stop();
  }
});

Deno.test("InstanceMonitor keeps a dead instance silent across renewals", async () => {
  const server = await startRedisServer();
  const monitor = new InstanceMonitor({
    pingIntervalMs: 100,
    renewAfterMs: 300,
    onEvidence: () => {},
  });
  monitor.sync(["127.0.0.1"], server.port, 200);
  try {
    await until(() => monitor.answering("127.0.0.1"));
    server.process.kill("SIGSTOP");
    await new Promise((r) => setTimeout(r, 1500));
    // Several renewals have happened; the silence still counts from the last answer.
    assert.ok(monitor.silentForMs("127.0.0.1")! >= 1300, `${monitor.silentForMs("127.0.0.1")}`);
    server.process.kill("SIGCONT");
    await until(() => monitor.answering("127.0.0.1"), 3000);
  } finally {
    monitor.close();
    await server.stop();
  }
});
