import assert from "node:assert/strict";
import { parseReplicationInfo } from "../redis/info.ts";
import type { InstanceObservation } from "./replication.ts";
import { decideServeStaleRestores, servesStaleWhileFollowing } from "./stale_reads.ts";

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
    // Connecting or in the handshake: link down, no sync in progress yet.
    at(
      "redis-a-5",
      `role:slave\nmaster_host:${master}\nmaster_link_status:down\nmaster_sync_in_progress:0\n`,
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

Deno.test("servesStaleWhileFollowing() keeps the spec's value only for an instance holding a prefix of the master's history", () => {
  const master = at(
    "redis-a-1",
    "role:master\nmaster_replid:new\nmaster_replid2:old\nmaster_repl_offset:500\nsecond_repl_offset:401\n",
  );
  const replica = (replId: string, offset: number) =>
    at(
      "redis-a-2",
      `role:slave\nmaster_host:198.18.1.1\nmaster_replid:${replId}\nmaster_repl_offset:${offset}\n`,
    );
  assert.equal(
    servesStaleWhileFollowing(true, replica("new", 450), master),
    true,
    "same ID, behind",
  );
  assert.equal(
    servesStaleWhileFollowing(true, replica("old", 400), master),
    true,
    "former ID, within",
  );
  assert.equal(
    servesStaleWhileFollowing(false, replica("new", 450), master),
    false,
    "spec says no",
  );
  assert.equal(
    servesStaleWhileFollowing(true, replica("old", 420), master),
    false,
    "writes past where the master's former history ended: a deposed master's",
  );
  assert.equal(servesStaleWhileFollowing(true, replica("new", 600), master), false, "ahead of it");
  // The control-plane test's case: a restarted master, empty, under a fresh ID.
  assert.equal(servesStaleWhileFollowing(true, replica("fresh", 0), master), false, "empty");
  assert.equal(servesStaleWhileFollowing(true, replica("new", 450), undefined), false, "unknown");
});

Deno.test("servesStaleWhileFollowing() refuses stale reads to an instance whose data may have moved on since it was observed", () => {
  const master = at(
    "redis-a-1",
    "role:master\nmaster_replid:new\nmaster_replid2:old\nmaster_repl_offset:500\nsecond_repl_offset:401\n",
  );
  // Linked to another master when observed: a partition's other side, still taking writes.
  const linkedTo = (host: string, link: "up" | "down") =>
    at(
      "redis-a-2",
      `role:slave\nmaster_host:${host}\nmaster_link_status:${link}\nmaster_replid:old\nmaster_repl_offset:400\n`,
    );
  assert.equal(
    servesStaleWhileFollowing(true, linkedTo("198.18.1.7", "up"), master),
    false,
    "linked to a master that may take writes",
  );
  assert.equal(
    servesStaleWhileFollowing(true, linkedTo("198.18.1.7", "up"), master, "198.18.1.7"),
    true,
    "linked to the master a handover stopped",
  );
  assert.equal(
    servesStaleWhileFollowing(
      true,
      linkedTo("198.18.1.7", "down"),
      master,
      undefined,
      "198.18.1.7",
    ),
    true,
    "its link down to the lost recorded master: nothing arrives",
  );
  assert.equal(
    servesStaleWhileFollowing(true, linkedTo("198.18.1.7", "down"), master),
    false,
    "its link down to another master, which may come back",
  );
  const copying = linkedTo("198.18.1.7", "down");
  assert.equal(
    servesStaleWhileFollowing(
      true,
      { ...copying, info: { ...copying.info!, syncInProgress: true } },
      master,
      undefined,
      "198.18.1.7",
    ),
    false,
    "in a full copy from it",
  );
  assert.equal(
    servesStaleWhileFollowing(true, linkedTo("198.18.1.1", "up"), master),
    true,
    "already linked to the new master",
  );
  // A master (a healed old master reattached, or the one a handover demotes) takes writes.
  const oldMaster = at("redis-a-0", "role:master\nmaster_replid:old\nmaster_repl_offset:400\n");
  assert.equal(servesStaleWhileFollowing(true, oldMaster, master, "198.18.1.7"), false, "a master");
});
