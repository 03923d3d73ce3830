import assert from "node:assert/strict";
import type { Redis } from "../api/redis.ts";
import { buildIntentStatus, buildStatus, countConnected } from "./status.ts";
import type { InstanceObservation } from "./replication.ts";
import { parseReplicationInfo } from "../redis/info.ts";

const redis: Redis = {
  metadata: { name: "c", namespace: "n", generation: 2 },
  spec: { replicas: 3 },
};
const obs = (ip: string, info: string): InstanceObservation => ({
  pod: ip,
  ordinal: 0,
  ip,
  ready: true,
  info: parseReplicationInfo(info),
});

Deno.test("countConnected() counts the master and the replicas linked to it", () => {
  const observations = [
    obs("a", "role:master\n"),
    obs("b", "role:slave\nmaster_host:a\nmaster_link_status:up\n"),
    obs("c", "role:slave\nmaster_host:a\nmaster_link_status:down\n"),
  ];
  assert.equal(countConnected(observations, "a"), 2);
  assert.equal(countConnected(observations, "b"), 0, "b is not a master");
});

Deno.test("buildIntentStatus() names the new master and says the Redis is not Ready meanwhile", () => {
  const status = buildIntentStatus(
    redis,
    { pod: "c-1", ip: "b", epoch: 7 },
    "handing over",
    "2026-01-01T00:00:00Z",
  );
  assert.equal(status.master, "c-1");
  assert.equal(status.epoch, 7);
  const ready = status.conditions?.find((c) => c.type === "Ready");
  assert.equal(ready?.status, "False");
  assert.equal(ready?.reason, "Reconfiguring");
});

Deno.test("buildStatus() is Ready only when every wanted instance is connected", () => {
  const observations = [
    obs("a", "role:master\n"),
    obs("b", "role:slave\nmaster_host:a\nmaster_link_status:up\n"),
  ];
  const master = { pod: "a", ip: "a", epoch: 1 };
  const plan = { kind: "Healthy" as const, master: observations[0] as never, replicas: [] };
  const status = buildStatus({ redis, plan, observations, master, now: "2026-01-01T00:00:00Z" });
  assert.equal(status.replicas, 2);
  assert.equal(status.conditions?.find((c) => c.type === "Ready")?.status, "False", "2 of 3");
  assert.equal(status.observedGeneration, 2);
  assert.equal(status.selector, "redis=c,app.kubernetes.io/managed-by=redis-operator");
});

Deno.test("buildStatus(): an advisory problem is Degraded but leaves Ready alone", () => {
  const observations = [
    obs("a", "role:master\n"),
    obs("b", "role:slave\nmaster_host:a\nmaster_link_status:up\n"),
    obs("c", "role:slave\nmaster_host:a\nmaster_link_status:up\n"),
  ];
  const master = { pod: "a", ip: "a", epoch: 1 };
  const plan = { kind: "Healthy" as const, master: observations[0] as never, replicas: [] };
  const advisory = { reason: "SentinelNameConflict", message: "name taken" };
  const status = buildStatus({
    redis,
    plan,
    observations,
    master,
    advisory,
    now: "2026-01-01T00:00:00Z",
  });
  const condition = (type: string) => status.conditions?.find((c) => c.type === type);
  assert.equal(condition("Ready")?.status, "True");
  assert.equal(condition("Degraded")?.status, "True");
  assert.equal(condition("Degraded")?.reason, "SentinelNameConflict");
  // With a real problem too, the problem's reason leads and both are said.
  const both = buildStatus({
    redis,
    plan,
    observations,
    master,
    advisory,
    problem: { reason: "RedisCommandFailed", message: "refused" },
    now: "2026-01-01T00:00:00Z",
  });
  const degraded = both.conditions?.find((c) => c.type === "Degraded");
  assert.equal(degraded?.reason, "RedisCommandFailed");
  assert.equal(degraded?.message, "refused; name taken");
});
