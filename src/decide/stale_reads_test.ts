import assert from "node:assert/strict";
import { parseReplicationInfo } from "../redis/info.ts";
import type { InstanceObservation } from "./replication.ts";
import { decideServeStaleRestores } from "./stale_reads.ts";

const master = "198.18.1.9";
const at = (pod: string, info: string, serveStaleData?: boolean): InstanceObservation => ({
  pod,
  ordinal: 0,
  ip: "198.18.1.1",
  ready: true,
  info: parseReplicationInfo(info),
  ...(serveStaleData === undefined ? {} : { serveStaleData }),
});
const linked =
  `role:slave\nmaster_host:${master}\nmaster_link_status:up\nmaster_sync_in_progress:0\n`;

Deno.test("decideServeStaleRestores() restores the spec's value on replicas in sync with the master", () => {
  assert.deepEqual(
    decideServeStaleRestores(
      [at("redis-a-0", "role:master\n", false), at("redis-a-1", linked, false)],
      true,
      master,
    ),
    ["redis-a-1"],
  );
  assert.deepEqual(
    decideServeStaleRestores([at("redis-a-1", linked, false)], false, master),
    [],
    "already as the spec says",
  );
  assert.deepEqual(
    decideServeStaleRestores([at("redis-a-1", linked, true)], false, master),
    ["redis-a-1"],
    "a spec that refuses stale reads is followed too",
  );
});

Deno.test("decideServeStaleRestores() leaves reads refused while a replica has nothing of the master's yet", () => {
  const observations = [
    // The control-plane test's case: a restarted master pointed at the new one, copying.
    at(
      "redis-a-0",
      `role:slave\nmaster_host:${master}\nmaster_link_status:down\nmaster_sync_in_progress:1\n`,
      false,
    ),
    // Link up, but the full copy is not loaded yet.
    at(
      "redis-a-1",
      `role:slave\nmaster_host:${master}\nmaster_link_status:up\nmaster_sync_in_progress:1\n`,
      false,
    ),
    // Parked, or held after a handover: pointed nowhere on purpose.
    at("redis-a-2", "role:slave\nmaster_host:127.0.0.1\nmaster_link_status:down\n", false),
    // In sync with another master than the one this pass settled on.
    at("redis-a-3", linked.replace(master, "198.18.1.7"), false),
    // Could not be read.
    at("redis-a-4", linked),
  ];
  assert.deepEqual(decideServeStaleRestores(observations, true, master), []);
  assert.deepEqual(decideServeStaleRestores([at("r", linked, false)], true, undefined), []);
});
