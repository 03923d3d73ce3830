import assert from "node:assert/strict";
import { parseReplicationInfo } from "../redis/info.ts";
import { decideParking } from "./parking.ts";
import type { InstanceObservation } from "./replication.ts";

const replicaOf = (pod: string, ip: string, master: string): InstanceObservation => ({
  pod,
  ordinal: Number(pod.at(-1)),
  ip,
  ready: true,
  info: parseReplicationInfo(
    `role:slave\nmaster_host:${master}\nmaster_port:6379\nmaster_link_status:down\n`,
  ),
});
const recorded = { pod: "redis-a-0", ip: "198.18.1.10" };

Deno.test("decideParking() points replicas away from the address of a master whose pod is gone (item 7)", () => {
  const survivor = replicaOf("redis-a-1", "198.18.1.11", "198.18.1.10");
  assert.deepEqual(decideParking([survivor], recorded), ["redis-a-1"]);
  // Recreated under the same name with another address: the old address is free as well.
  const recreated: InstanceObservation = {
    pod: "redis-a-0",
    ordinal: 0,
    ip: "198.18.1.20",
    ready: false,
  };
  assert.deepEqual(decideParking([recreated, survivor], recorded), ["redis-a-1"]);
});

Deno.test("decideParking() leaves replicas alone while the master's pod keeps its address", () => {
  const master: InstanceObservation = {
    pod: "redis-a-0",
    ordinal: 0,
    ip: "198.18.1.10",
    ready: false,
  };
  const survivor = replicaOf("redis-a-1", "198.18.1.11", "198.18.1.10");
  assert.deepEqual(decideParking([master, survivor], recorded), []);
  assert.deepEqual(decideParking([survivor], {}), []);
});
