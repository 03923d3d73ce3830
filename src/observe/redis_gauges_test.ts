import assert from "node:assert/strict";
import type { InstanceObservation } from "../decide/replication.ts";
import { OperatorMetrics } from "./metrics.ts";
import { recordRedisGauges, replicationLags } from "./redis_gauges.ts";

const info = (role: "master" | "replica", offset: number, masterHost?: string) => ({
  role,
  offset,
  connectedReplicas: [],
  replId: "r",
  replId2: "",
  secondReplOffset: -1,
  failoverState: "no-failover",
  ...(masterHost ? { masterHost, masterPort: 6379, masterLinkUp: true } : {}),
});
const observations: InstanceObservation[] = [
  { pod: "redis-a-0", ordinal: 0, ip: "10.0.0.1", ready: true, info: info("master", 1000) },
  {
    pod: "redis-a-1",
    ordinal: 1,
    ip: "10.0.0.2",
    ready: true,
    info: info("replica", 900, "10.0.0.1"),
  },
  {
    pod: "redis-a-2",
    ordinal: 2,
    ip: "10.0.0.3",
    ready: true,
    info: info("replica", 5, "10.0.0.9"),
  },
];

Deno.test("replicationLags(): bytes behind the master, only for its own replicas", () => {
  assert.deepEqual([...replicationLags(observations, "10.0.0.1")], [["redis-a-1", 100]]);
  assert.deepEqual([...replicationLags(observations, "10.0.0.2")], [], "not a master");
  assert.deepEqual([...replicationLags(observations, undefined)], []);
});

Deno.test("recordRedisGauges(): conditions, master and lag; a new pass replaces the old series", () => {
  const metrics = new OperatorMetrics();
  const redis = { metadata: { namespace: "n", name: "a" }, spec: { replicas: 3 } };
  recordRedisGauges(metrics, redis, {
    master: "redis-a-0",
    masterIP: "10.0.0.1",
    epoch: 4,
    replicas: 2,
    conditions: [
      {
        type: "Ready",
        status: "False",
        reason: "WaitingForInstances",
        message: "",
        lastTransitionTime: "",
      },
      {
        type: "Degraded",
        status: "True",
        reason: "PodCrashLooping",
        message: "",
        lastTransitionTime: "",
      },
    ],
  }, observations);
  const text = metrics.render();
  assert.match(text, /redis_operator_desired_instances\{namespace="n",name="a"\} 3/);
  assert.match(
    text,
    /redis_operator_condition\{namespace="n",name="a",type="Degraded",reason="PodCrashLooping"\} 1/,
  );
  assert.match(text, /redis_operator_master\{namespace="n",name="a",pod="redis-a-0",epoch="4"\} 1/);
  assert.match(
    text,
    /redis_operator_replication_lag_bytes\{namespace="n",name="a",pod="redis-a-1"\} 100/,
  );

  recordRedisGauges(metrics, redis, {
    master: "redis-a-1",
    masterIP: "10.0.0.2",
    epoch: 5,
    replicas: 1,
    conditions: [
      {
        type: "Degraded",
        status: "False",
        reason: "AsExpected",
        message: "",
        lastTransitionTime: "",
      },
    ],
  }, observations);
  const after = metrics.render();
  assert.doesNotMatch(after, /PodCrashLooping/, "a reason that went is no series any more");
  assert.doesNotMatch(after, /epoch="4"/);
  assert.doesNotMatch(after, /lag_bytes\{/);
});
