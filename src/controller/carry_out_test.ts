/** carryOut() of a planned handover, with Redis faked: what it records and holds. */
import assert from "node:assert/strict";
import { configure } from "@logtape/logtape";
import type { Redis } from "../api/redis.ts";
import type { InstanceObservation, ReplicationPlan } from "../decide/replication.ts";
import { HandedOverError } from "../redis/client.ts";
import { parseReplicationInfo } from "../redis/info.ts";
import { carryOut } from "./carry_out.ts";
import { recordingDeps } from "./recording_deps.ts";

const redis: Redis = {
  metadata: { name: "cache", namespace: "prod", uid: "u", resourceVersion: "42", generation: 1 },
  spec: { replicas: 3 },
  status: { master: "redis-cache-0", masterIP: "198.18.1.10", epoch: 7 },
};

const instance = (ordinal: number, info?: string): InstanceObservation => ({
  pod: `redis-cache-${ordinal}`,
  ordinal,
  ip: `198.18.1.${10 + ordinal}`,
  ready: true,
  ...(info ? { info: parseReplicationInfo(info) } : {}),
});

/** A handover from redis-cache-0 to redis-cache-1; redis-cache-2 answers when `thirdAnswers`. */
async function handover(
  handOver: () => Promise<void>,
  thirdAnswers: boolean,
) {
  await configure({ sinks: {}, loggers: [], reset: true });
  const sent: string[] = [];
  const from = instance(0, "role:master\nmaster_repl_offset:100\n");
  const to = instance(1, "role:slave\nmaster_host:198.18.1.10\nmaster_link_status:up\n");
  const third = instance(
    2,
    thirdAnswers ? "role:slave\nmaster_host:198.18.1.10\nmaster_link_status:up\n" : undefined,
  );
  const node = (pod: string) => ({
    handOver: () => {
      sent.push(`${pod} handover`);
      return handOver();
    },
    replicaOf: (host: string) => Promise.resolve(void sent.push(`${pod} replicaof ${host}`)),
  });
  const plan = {
    kind: "Switchover",
    reason: "Requested",
    from,
    master: to,
    reattach: thirdAnswers ? [third] : [],
  } as ReplicationPlan;
  const observed = [from, to, third].map((o) => ({ observation: o, node: node(o.pod) }));
  const outcome = await carryOut(
    recordingDeps().deps,
    redis,
    plan,
    observed as unknown as Parameters<typeof carryOut>[3],
  );
  return { outcome, sent };
}

Deno.test("carryOut() holds the parked old master when the other replicas meet the new master's fence", async () => {
  const { outcome, sent } = await handover(() => Promise.resolve(), true);
  assert.equal(outcome.master?.pod, "redis-cache-1");
  assert.equal(outcome.readHold, "redis-cache-0");
  assert.deepEqual(sent, ["redis-cache-0 handover", "redis-cache-2 replicaof 198.18.1.11"]);
});

Deno.test("carryOut() points the old master at the new one at once when holding it would leave writes fenced", async () => {
  // redis-cache-2 is down (a drained node): held, redis-cache-0 would be the only replica
  // that could meet min-replicas-to-write 1, and every write would be refused for the hold.
  const { outcome, sent } = await handover(() => Promise.resolve(), false);
  assert.equal(outcome.master?.pod, "redis-cache-1");
  assert.equal(outcome.readHold, undefined);
  assert.deepEqual(sent, ["redis-cache-0 handover", "redis-cache-0 replicaof 198.18.1.11"]);
});

Deno.test("carryOut() records the promoted target when only the old master's parking failed", async () => {
  // As connectRedis' wrap reports it.
  const cause = new HandedOverError(
    "the target was promoted, but parking this instance failed: Command timed out",
  );
  const lost = new Error(`Redis at 198.18.1.10:6379 refused handover: ${cause.message}`, {
    cause,
  });
  const { outcome, sent } = await handover(() => Promise.reject(lost), true);
  assert.equal(outcome.master?.pod, "redis-cache-1", "the target takes writes: it is the master");
  assert.equal(outcome.master?.epoch, 8);
  assert.equal(outcome.readHold, undefined, "not known to be parked: the next pass reattaches it");
  assert.match(outcome.problem?.message ?? "", /parking this instance failed/);
  assert.deepEqual(sent, ["redis-cache-0 handover", "redis-cache-2 replicaof 198.18.1.11"]);
});
