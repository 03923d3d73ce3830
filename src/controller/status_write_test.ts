import assert from "node:assert/strict";
import { configure } from "@logtape/logtape";
import type { Redis } from "../api/redis.ts";
import type { ReplicationPlan } from "../decide/replication.ts";
import { parseReplicationInfo } from "../redis/info.ts";
import { carryOut } from "./carry_out.ts";
import { report } from "./record.ts";
import { recordingDeps } from "./recording_deps.ts";

const redis: Redis = {
  metadata: { name: "cache", namespace: "prod", uid: "u", resourceVersion: "42", generation: 1 },
  spec: { replicas: 3 },
  status: { master: "redis-cache-0", masterIP: "198.18.1.10", epoch: 7 },
};

Deno.test("status writes are conditional on the version the pass read, and the intent's version carries on (item 5)", async () => {
  await configure({ sinks: {}, loggers: [], reset: true });
  const { deps, statusWrites } = recordingDeps();
  const master = {
    pod: "redis-cache-1",
    ordinal: 1,
    ip: "198.18.1.11",
    ready: true,
    info: parseReplicationInfo("role:master\nmaster_repl_offset:100\n"),
  };
  const plan: ReplicationPlan = {
    kind: "Promote",
    reason: "Adopt",
    master,
    promote: false,
    reattach: [],
  };
  const outcome = await carryOut(deps, redis, plan, []);
  const intent = statusWrites[0]?.body as {
    metadata?: { resourceVersion?: string };
    status?: { epoch?: number };
  };
  assert.equal(
    intent.metadata?.resourceVersion,
    "42",
    "a stale cache gets a conflict, not an older epoch",
  );
  assert.equal(intent.status?.epoch, 8);
  assert.equal(outcome.resourceVersion, "43");

  await report(deps, redis, {
    plan,
    observed: [],
    master: outcome.master,
    resourceVersion: outcome.resourceVersion,
  });
  const final = statusWrites[1]?.body as { metadata?: { resourceVersion?: string } };
  assert.equal(final.metadata?.resourceVersion, "43", "conditional on the intent just written");
});

const stopped = new AbortController();
stopped.abort();
for (
  const [how, ended] of [
    ["its controller stopped", { signal: stopped.signal }],
    // A process frozen past its renew deadline wakes before its step-down timer runs.
    ["its renew deadline passed, the step-down timer not yet run", {
      signal: new AbortController().signal,
      stillLeading: () => false,
    }],
  ] as const
) {
  Deno.test(`a pass whose leadership ended (${how}) sends no command to Redis (its Lease may be another's)`, async () => {
    await configure({ sinks: {}, loggers: [], reset: true });
    const { deps } = recordingDeps();
    const sent: string[] = [];
    const node = (pod: string) => ({
      promote: () => Promise.resolve(void sent.push(`${pod} promote`)),
      replicaOf: () => Promise.resolve(void sent.push(`${pod} replicaof`)),
    });
    const instance = (pod: string, ordinal: number, role: string) => ({
      pod,
      ordinal,
      ip: `198.18.1.${10 + ordinal}`,
      ready: true,
      info: parseReplicationInfo(`role:${role}\nmaster_repl_offset:100\n`),
    });
    const master = instance("redis-cache-1", 1, "slave");
    const replica = instance("redis-cache-2", 2, "master");
    const plan: ReplicationPlan = {
      kind: "Promote",
      reason: "Failover",
      master,
      promote: true,
      reattach: [replica],
    };
    const observed = [master, replica].map((o) => ({ observation: o, node: node(o.pod) }));
    const outcome = await carryOut(
      { ...deps, ...ended },
      redis,
      plan,
      observed as unknown as Parameters<typeof carryOut>[3],
    );
    assert.deepEqual(sent, []);
    assert.match(outcome.problem?.message ?? "", /no longer leads/);
  });
}
