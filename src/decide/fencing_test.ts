import assert from "node:assert/strict";
import { decideFencingRepairs } from "./fencing.ts";
import type { InstanceObservation } from "./replication.ts";

const wanted = { minReplicasToWrite: 1, minReplicasMaxLagSeconds: 2 };
const at = (pod: string, fencing?: InstanceObservation["fencing"]): InstanceObservation => ({
  pod,
  ordinal: 0,
  ip: "198.18.1.1",
  ready: true,
  ...(fencing ? { fencing } : {}),
});

Deno.test("decideFencingRepairs() finds a fence a handover left behind", () => {
  assert.deepEqual(
    decideFencingRepairs([
      at("redis-a-0", { minReplicasToWrite: 1000000, minReplicasMaxLagSeconds: 2 }),
      at("redis-a-1", wanted),
      at("redis-a-2"),
    ], wanted),
    ["redis-a-0"],
  );
});

Deno.test("decideFencingRepairs() follows a changed spec.failover on running instances", () => {
  assert.deepEqual(
    decideFencingRepairs([at("redis-a-0", wanted)], {
      minReplicasToWrite: 1,
      minReplicasMaxLagSeconds: 5,
    }),
    ["redis-a-0"],
  );
  assert.deepEqual(decideFencingRepairs([at("redis-a-0", wanted)], wanted), []);
});
