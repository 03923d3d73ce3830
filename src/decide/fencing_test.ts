import assert from "node:assert/strict";
import { parseReplicationInfo } from "../redis/info.ts";
import { decideFencingRepairs } from "./fencing.ts";
import type { InstanceObservation } from "./replication.ts";

const wanted = { minReplicasToWrite: 1, minReplicasMaxLagSeconds: 2 };
const fenced = { minReplicasToWrite: 1000000, minReplicasMaxLagSeconds: 2 };
const at = (
  pod: string,
  role: "master" | "slave",
  fencing?: InstanceObservation["fencing"],
): InstanceObservation => ({
  pod,
  ordinal: 0,
  ip: "198.18.1.1",
  ready: true,
  info: parseReplicationInfo(`role:${role}\nmaster_host:198.18.1.9\n`),
  ...(fencing ? { fencing } : {}),
});

Deno.test("decideFencingRepairs() finds a fence a handover left behind on the master (item 6)", () => {
  assert.deepEqual(
    decideFencingRepairs(
      [
        at("redis-a-0", "master", fenced),
        at("redis-a-1", "slave", wanted),
        at("redis-a-2", "slave"),
      ],
      wanted,
      "redis-a-0",
    ),
    ["redis-a-0"],
  );
});

Deno.test("decideFencingRepairs() leaves a master the pass did not settle on fenced", () => {
  // The old master of an interrupted handover: lifting its fence before it is demoted
  // would let it take writes that are lost when it becomes a replica.
  assert.deepEqual(
    decideFencingRepairs(
      [
        at("redis-a-0", "master", fenced),
        at("redis-a-1", "master", wanted),
        at("redis-a-2", "slave", fenced),
      ],
      wanted,
      "redis-a-1",
    ),
    ["redis-a-2"],
  );
});

Deno.test("decideFencingRepairs() follows a changed spec.failover on running instances", () => {
  const lag5 = { minReplicasToWrite: 1, minReplicasMaxLagSeconds: 5 };
  assert.deepEqual(decideFencingRepairs([at("redis-a-0", "master", wanted)], lag5, "redis-a-0"), [
    "redis-a-0",
  ]);
  assert.deepEqual(
    decideFencingRepairs([at("redis-a-0", "master", wanted)], wanted, "redis-a-0"),
    [],
  );
});

Deno.test("majorityOfMembers(): a majority of every pod but newcomers still in their first copy; silent pods count", async () => {
  const { majorityOfMembers, wantedFencing } = await import("./fencing.ts");
  const { parseReplicationInfo } = await import("../redis/info.ts");
  const member = (pod: string, info?: string) => ({
    pod,
    ordinal: 0,
    ip: "",
    ready: true,
    ...(info ? { info: parseReplicationInfo(info) } : {}),
  });
  const master = member("m", "role:master\nmaster_repl_offset:500\n");
  const synced = (pod: string) =>
    member(pod, "role:slave\nmaster_link_status:up\nmaster_repl_offset:500\n");
  const copying = (pod: string) =>
    member(
      pod,
      "role:slave\nmaster_link_status:down\nmaster_sync_in_progress:1\nmaster_repl_offset:0\n",
    );
  const silent = (pod: string) => member(pod);
  const starting = (pod: string) => ({ ...member(pod), ready: false });
  // 3 → 6: the three new replicas copying, or still starting, do not raise the fence above
  // what 3 allow.
  assert.equal(
    majorityOfMembers([master, synced("a"), synced("b"), copying("c"), copying("d"), copying("e")]),
    1,
  );
  assert.equal(
    majorityOfMembers([master, synced("a"), synced("b"), starting("c"), starting("d")]),
    1,
  );
  assert.equal(majorityOfMembers([master, synced("a"), synced("b"), synced("c"), copying("d")]), 2);
  // Cut off from two of four, the count stays four: no side lowers its fence.
  assert.equal(majorityOfMembers([master, synced("a"), silent("b"), silent("c")]), 2);
  // The spec's own value wins.
  const redis = { spec: { replicas: 4, failover: { minReplicasToWrite: 1 } } };
  assert.equal(
    wantedFencing(redis, [master, synced("a"), synced("b"), synced("c")]).minReplicasToWrite,
    1,
  );
  assert.equal(
    wantedFencing({ spec: { replicas: 4 } }, [master, synced("a"), synced("b"), synced("c")])
      .minReplicasToWrite,
    2,
  );
});
