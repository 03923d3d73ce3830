/**
 * Parking carried out (issue 8, item 7): replicas still pointed at a gone
 * master's address are sent to the parking address, with one Event; a refusal
 * is a problem in the status.
 */
import assert from "node:assert/strict";
import { configure } from "@logtape/logtape";
import type { Redis } from "../api/redis.ts";
import { parkingAddress } from "../decide/parking.ts";
import { parseReplicationInfo } from "../redis/info.ts";
import type { RedisNode } from "../redis/client.ts";
import type { ObservedInstance } from "./observe.ts";
import { parkReplicas } from "./reconcile.ts";
import { recordingDeps } from "./recording_deps.ts";

const redis: Redis = {
  metadata: { name: "a", namespace: "prod", uid: "u" },
  spec: { replicas: 3 },
};
const recorded = { pod: "redis-a-0", ip: "198.18.1.10" };

/** A replica of the gone master whose REPLICAOF calls are recorded, or refused. */
function survivor(pod: string, ip: string, calls: string[], refuse = false): ObservedInstance {
  const node = {
    replicaOf: (host: string, port: number) => {
      calls.push(`${pod} -> ${host}:${port}`);
      return refuse ? Promise.reject(new Error("ERR refused")) : Promise.resolve();
    },
  } as unknown as RedisNode;
  return {
    pod: { metadata: { name: pod, namespace: "prod" } },
    node,
    observation: {
      pod,
      ordinal: Number(pod.at(-1)),
      ip,
      ready: true,
      info: parseReplicationInfo(
        `role:slave\nmaster_host:${recorded.ip}\nmaster_port:6379\nmaster_link_status:down\n`,
      ),
    },
  };
}

Deno.test("parkReplicas() points the gone master's replicas at the parking address, with an Event", async () => {
  await configure({ sinks: {}, loggers: [], reset: true });
  const { deps, requests } = recordingDeps();
  const calls: string[] = [];
  const problems = await parkReplicas(deps, redis, [
    survivor("redis-a-1", "198.18.1.11", calls),
    survivor("redis-a-2", "198.18.1.12", calls),
  ], recorded);
  assert.deepEqual(problems, []);
  const parking = `${parkingAddress.host}:${parkingAddress.port}`;
  assert.deepEqual(calls.sort(), [`redis-a-1 -> ${parking}`, `redis-a-2 -> ${parking}`]);
  const events = requests.filter((r) => r.path.includes("/events"));
  assert.equal(events.length, 1);
  assert.match(JSON.stringify(events[0]!.body), /ReplicaParked.*redis-a-1, redis-a-2/);
});

Deno.test("parkReplicas() reports a replica that refuses, and parks the others", async () => {
  await configure({ sinks: {}, loggers: [], reset: true });
  const { deps } = recordingDeps();
  const calls: string[] = [];
  const problems = await parkReplicas(deps, redis, [
    survivor("redis-a-1", "198.18.1.11", calls, true),
    survivor("redis-a-2", "198.18.1.12", calls),
  ], recorded);
  assert.equal(calls.length, 2);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /redis-a-1: .*refused/);
});

Deno.test("parkReplicas() sends nothing while the master's pod keeps its address", async () => {
  await configure({ sinks: {}, loggers: [], reset: true });
  const { deps, requests } = recordingDeps();
  const calls: string[] = [];
  const master: ObservedInstance = {
    pod: { metadata: { name: "redis-a-0", namespace: "prod" } },
    observation: { pod: "redis-a-0", ordinal: 0, ip: recorded.ip, ready: false },
  };
  await parkReplicas(deps, redis, [master, survivor("redis-a-1", "198.18.1.11", calls)], recorded);
  assert.deepEqual(calls, []);
  assert.deepEqual(requests, []);
});
