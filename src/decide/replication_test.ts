import assert from "node:assert/strict";
import { parseReplicationInfo } from "../redis/info.ts";
import {
  decideReplication,
  type Instance,
  type InstanceObservation,
  persistentMasterWaitSeconds,
  rankCandidates,
} from "./replication.ts";

const ip = (n: number) => `198.18.1.${n + 10}`;

function master(ordinal: number, offset = 100, replid = "a".repeat(40)): InstanceObservation {
  return observe(
    ordinal,
    `role:master\nconnected_slaves:0\nmaster_replid:${replid}\nmaster_repl_offset:${offset}\n`,
  );
}

function replica(
  ordinal: number,
  of: number | string,
  opts: { up?: boolean; offset?: number; priority?: number; syncing?: boolean } = {},
): InstanceObservation {
  const host = typeof of === "number" ? ip(of) : of;
  return observe(
    ordinal,
    [
      "role:slave",
      `master_host:${host}`,
      "master_port:6379",
      `master_link_status:${opts.up ?? true ? "up" : "down"}`,
      `master_sync_in_progress:${opts.syncing ? 1 : 0}`,
      `slave_repl_offset:${opts.offset ?? 100}`,
      `slave_priority:${opts.priority ?? 100}`,
      `master_replid:${"a".repeat(40)}`,
      `master_repl_offset:${opts.offset ?? 100}`,
    ].join("\n"),
  );
}

function observe(ordinal: number, info: string): InstanceObservation {
  return {
    pod: `redis-x-${ordinal}`,
    ordinal,
    ip: ip(ordinal),
    ready: true,
    info: parseReplicationInfo(info),
  };
}

const pods = (plan: { reattach?: readonly Instance[] }) =>
  (plan.reattach ?? []).map((i) => i.pod).sort();

Deno.test("decideReplication() leaves a healthy replication alone", () => {
  const plan = decideReplication([master(0), replica(1, 0), replica(2, 0)], {
    pod: "redis-x-0",
    ip: ip(0),
  });
  assert.equal(plan.kind, "Healthy");
  assert.equal(plan.kind === "Healthy" && plan.master.pod, "redis-x-0");
});

Deno.test("decideReplication() does nothing with fewer than two instances", () => {
  const notRunning: InstanceObservation = { pod: "redis-x-1", ordinal: 1, ip: ip(1), ready: false };
  const noInfo: InstanceObservation = {
    pod: "redis-x-2",
    ordinal: 2,
    ip: ip(2),
    ready: true,
    error: "timeout",
  };
  const plan = decideReplication([master(0), notRunning, noInfo], {});
  assert.equal(plan.kind, "Wait");
  assert.match(plan.kind === "Wait" ? plan.message : "", /1 of 3 instances answer/);
});

Deno.test("decideReplication() initialises a set of masters around the one holding data", () => {
  const plan = decideReplication([master(0, 0), master(1, 500), master(2, 0)], {});
  assert.equal(plan.kind, "Promote");
  if (plan.kind !== "Promote") return;
  assert.equal(plan.reason, "Initialize");
  assert.equal(plan.master.pod, "redis-x-1");
  assert.equal(plan.promote, false);
  assert.deepEqual(pods(plan), ["redis-x-0", "redis-x-2"]);
});

Deno.test("decideReplication() initialises empty masters around the lowest ordinal", () => {
  const plan = decideReplication([master(2, 0), master(0, 0), master(1, 0)], {});
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-0");
});

Deno.test("decideReplication() promotes the replica with the highest offset when the master is lost", () => {
  const plan = decideReplication([
    replica(1, 0, { up: false, offset: 90 }),
    replica(2, 0, { up: false, offset: 120 }),
    replica(3, 0, { up: false, offset: 110 }),
  ], { pod: "redis-x-0", ip: ip(0) });
  assert.equal(plan.kind, "Promote");
  if (plan.kind !== "Promote") return;
  assert.equal(plan.reason, "Failover");
  assert.equal(plan.master.pod, "redis-x-2");
  assert.equal(plan.promote, true);
  assert.deepEqual(pods(plan), ["redis-x-1", "redis-x-3"]);
});

Deno.test("decideReplication() prefers the lowest non-zero priority, and never promotes priority 0", () => {
  const plan = decideReplication([
    replica(1, 0, { up: false, offset: 300, priority: 0 }),
    replica(2, 0, { up: false, offset: 100, priority: 50 }),
    replica(3, 0, { up: false, offset: 200, priority: 100 }),
  ], {});
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-2");
  assert.ok(
    plan.kind === "Promote" && pods(plan).includes("redis-x-1"),
    "priority 0 is still repointed",
  );
});

Deno.test("decideReplication() never promotes an empty instance over one with data (a restarted master)", () => {
  // redis-x-0 was the master, restarted empty and waits as a replica of nobody (start script).
  const plan = decideReplication([
    replica(0, "127.0.0.1", { up: false, offset: 0 }),
    replica(1, 0, { up: false, offset: 40 }),
    replica(2, 0, { up: false, offset: 0, syncing: true }),
  ], { pod: "redis-x-0", ip: ip(0) });
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-1");
});

Deno.test("decideReplication() keeps the recorded master while its replicas reconnect", () => {
  const plan = decideReplication([
    master(1, 200),
    replica(0, 1, { up: false, offset: 0 }),
    master(2, 0),
  ], {
    pod: "redis-x-1",
    ip: ip(1),
  });
  assert.equal(plan.kind, "Reattach");
  assert.equal(plan.kind === "Reattach" && plan.master.pod, "redis-x-1");
  assert.deepEqual(pods(plan), ["redis-x-2"]);
});

Deno.test("decideReplication() points stray instances at the master with replicas", () => {
  const plan = decideReplication([
    master(0),
    replica(1, 0),
    master(2, 0),
    replica(3, "198.18.9.9", { up: false }),
  ], {});
  assert.equal(plan.kind, "Reattach");
  assert.deepEqual(pods(plan), ["redis-x-2", "redis-x-3"]);
});

Deno.test("decideReplication() resolves two masters with replicas in favour of the recorded one", () => {
  const observations = [master(0, 500), replica(1, 0), master(2, 100), replica(3, 2)];
  const recorded = decideReplication(observations, { pod: "redis-x-2", ip: ip(2) });
  assert.equal(recorded.kind, "Reattach", "the recorded master needs no new election");
  assert.equal(recorded.kind === "Reattach" && recorded.master.pod, "redis-x-2");
  assert.deepEqual(pods(recorded as { reattach?: readonly Instance[] }), [
    "redis-x-0",
    "redis-x-1",
  ]);
  const unrecorded = decideReplication(observations, {});
  assert.equal(
    unrecorded.kind === "Promote" && unrecorded.master.pod,
    "redis-x-0",
    "else the longer history",
  );
});

Deno.test("rankCandidates() orders by data, priority, offset and ordinal", () => {
  const ranked = rankCandidates([
    replica(4, 0, { offset: 0 }),
    replica(3, 0, { offset: 50 }),
    replica(2, 0, { offset: 70 }),
    replica(1, 0, { offset: 70 }),
  ] as Instance[]);
  assert.deepEqual(ranked.map((i) => i.ordinal), [1, 2, 3, 4]);
});

Deno.test("decideReplication() works with IPv6 pod addresses", () => {
  const v6 = (o: InstanceObservation, address: string): InstanceObservation => ({
    ...o,
    ip: address,
  });
  const m = v6(master(0), "fd00::10");
  const r = v6(replica(1, "fd00::10"), "fd00::11");
  const stray = v6(master(2, 0), "fd00::12");
  const plan = decideReplication([m, r, stray], {});
  assert.equal(plan.kind === "Reattach" && plan.master.ip, "fd00::10");
});

Deno.test("decideReplication() on INFO captured from redis-server 7: healthy, then the master lost", () => {
  const captured = (name: string) =>
    parseReplicationInfo(
      Deno.readTextFileSync(new URL(`../../tests/fixtures/info/${name}.txt`, import.meta.url)),
    );
  // The fixtures ran on one host: the master's replicas name it 127.0.0.1.
  const at = (pod: number, address: string, info: string): InstanceObservation => ({
    pod: `redis-f-${pod}`,
    ordinal: pod,
    ip: address,
    ready: true,
    info: captured(info),
  });
  const healthy = decideReplication([
    at(0, "127.0.0.1", "master_two_replicas"),
    at(1, "10.0.0.2", "replica_connected"),
  ], {});
  assert.equal(healthy.kind, "Healthy");

  const lost = decideReplication([
    at(1, "10.0.0.2", "replica_link_down"),
    at(2, "10.0.0.3", "replica_never_synced"),
  ], { pod: "redis-f-0", ip: "127.0.0.1" });
  assert.equal(lost.kind, "Promote");
  assert.equal(
    lost.kind === "Promote" && lost.master.pod,
    "redis-f-1",
    "the replica with data, not the empty one",
  );
});

Deno.test("decideReplication() waits out the detection window for a silent master, then replaces it", () => {
  const silent = (silentMs: number): InstanceObservation => ({
    pod: "redis-x-0",
    ordinal: 0,
    ip: ip(0),
    ready: true,
    error: "timeout",
    unreachable: "timeout",
    silentMs,
  });
  const replicas = [replica(1, 0, { offset: 50 }), replica(2, 0, { offset: 60 })];
  const lastIo = (o: InstanceObservation, seconds: number): InstanceObservation => ({
    ...o,
    info: { ...o.info!, masterLastIoSeconds: seconds },
  });
  const recorded = { pod: "redis-x-0", ip: ip(0) };
  const early = decideReplication([silent(800), ...replicas.map((r) => lastIo(r, 2))], recorded);
  assert.equal(early.kind, "Wait");
  assert.match(
    early.kind === "Wait" ? early.message : "",
    /does not answer; it is replaced once silent for 2000 ms/,
  );
  const heard = decideReplication([silent(5000), ...replicas.map((r) => lastIo(r, 0))], recorded);
  assert.equal(heard.kind, "Wait", "replicas that still hear the master veto a failover");
  assert.match(heard.kind === "Wait" ? heard.message : "", /still hear it/);
  const late = decideReplication([silent(2100), ...replicas.map((r) => lastIo(r, 2))], recorded);
  assert.equal(late.kind === "Promote" && late.master.pod, "redis-x-2");
});

Deno.test("decideReplication() fails over at once when the master refuses connections", () => {
  const refused: InstanceObservation = {
    pod: "redis-x-0",
    ordinal: 0,
    ip: ip(0),
    ready: true,
    error: "ECONNREFUSED",
    unreachable: "refused",
    silentMs: 0,
  };
  const plan = decideReplication(
    [refused, replica(1, 0, { up: false, offset: 50 }), replica(2, 0, { up: false, offset: 40 })],
    { pod: "redis-x-0", ip: ip(0) },
  );
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-1");
});

Deno.test("decideReplication() trusts a refused connection over replicas whose links are not down yet", () => {
  const refused: InstanceObservation = {
    pod: "redis-x-0",
    ordinal: 0,
    ip: ip(0),
    ready: true,
    error: "ECONNREFUSED",
    unreachable: "refused",
  };
  const stale = (o: InstanceObservation): InstanceObservation => ({
    ...o,
    info: { ...o.info!, masterLastIoSeconds: 0 },
  });
  const plan = decideReplication([
    refused,
    stale(replica(1, 0, { offset: 70 })),
    stale(replica(2, 0, { offset: 60 })),
  ], {
    pod: "redis-x-0",
    ip: ip(0),
  });
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-1");
});

Deno.test("decideReplication() hands a terminating master over to the in-sync replica with the most data", () => {
  const leaving = { ...master(0), terminating: true };
  const plan = decideReplication([
    leaving,
    replica(1, 0, { offset: 90 }),
    replica(2, 0, { offset: 100 }),
  ], {
    pod: "redis-x-0",
    ip: ip(0),
  });
  assert.equal(plan.kind, "Switchover");
  if (plan.kind !== "Switchover") return;
  assert.equal(plan.reason, "MasterTerminating");
  assert.equal(plan.from.pod, "redis-x-0");
  assert.equal(plan.master.pod, "redis-x-2");
  assert.deepEqual(pods(plan), ["redis-x-1"]);
});

Deno.test("decideReplication() never hands over to a replica that is syncing, disconnected or priority 0", () => {
  const leaving = { ...master(0), terminating: true };
  const plan = decideReplication([
    leaving,
    replica(1, 0, { up: false }),
    replica(2, 0, { syncing: true }),
    replica(3, 0, { priority: 0 }),
  ], { pod: "redis-x-0", ip: ip(0) });
  assert.equal(plan.kind, "Wait");
  assert.match(plan.kind === "Wait" ? plan.message : "", /no replica is in sync/);
});

Deno.test("decideReplication() moves the master off a pod the scale-down removes", () => {
  const plan = decideReplication([replica(0, 3), replica(1, 3), replica(2, 3), master(3)], {}, {
    detectionWindowMs: 2000,
    desiredReplicas: 3,
  });
  assert.equal(plan.kind === "Switchover" && plan.reason, "ScaleDown");
  assert.ok(plan.kind === "Switchover" && plan.master.ordinal < 3);
});

Deno.test("decideReplication() hands the outdated master over to an updated replica once the replicas are updated", () => {
  const outdated = (o: InstanceObservation) => ({ ...o, outdated: true });
  const early = decideReplication(
    [outdated(master(0)), outdated(replica(1, 0)), replica(2, 0)],
    {},
  );
  assert.equal(early.kind, "Healthy", "replicas are replaced first");
  const last = decideReplication([
    outdated(master(0)),
    replica(1, 0, { offset: 100 }),
    replica(2, 0, { offset: 100 }),
  ], {});
  assert.equal(last.kind === "Switchover" && last.reason, "RollingUpdate");
  assert.equal(last.kind === "Switchover" && last.master.pod, "redis-x-1");
});

Deno.test("decideReplication() keeps the outdated master while the last replica is still being replaced", () => {
  // x-2 was deleted for the update: its new pod runs but does not answer yet, or is not
  // there at all. Handing over now would leave the new master one replica short.
  const outdated = (o: InstanceObservation) => ({ ...o, outdated: true });
  const starting: InstanceObservation = { pod: "redis-x-2", ordinal: 2, ip: ip(2), ready: false };
  const recorded = { pod: "redis-x-0", ip: ip(0) };
  const whileStarting = decideReplication(
    [outdated(master(0)), replica(1, 0), starting],
    recorded,
    { detectionWindowMs: 2000, desiredReplicas: 3 },
  );
  assert.equal(whileStarting.kind, "Healthy");
  const whileGone = decideReplication(
    [outdated(master(0)), replica(1, 0)],
    recorded,
    { detectionWindowMs: 2000, desiredReplicas: 3 },
  );
  assert.equal(whileGone.kind, "Healthy");
  // Back and answering, but still in its first full copy.
  const whileSyncing = decideReplication(
    [outdated(master(0)), replica(1, 0), replica(2, 0, { up: false, syncing: true, offset: 0 })],
    recorded,
    { detectionWindowMs: 2000, desiredReplicas: 3 },
  );
  assert.equal(whileSyncing.kind, "Healthy");
});

Deno.test("decideReplication() keeps a master whose pod is not ready while it answers (item 4)", () => {
  const notReady = { ...master(0), ready: false };
  const plan = decideReplication([notReady, replica(1, 0), replica(2, 0)], {
    pod: "redis-x-0",
    ip: ip(0),
  });
  assert.equal(plan.kind, "Healthy");
  assert.equal(plan.kind === "Healthy" && plan.master.pod, "redis-x-0");
});

Deno.test("decideReplication() waits out the window for a master whose connection was closed (item 4)", () => {
  const closed: InstanceObservation = {
    pod: "redis-x-0",
    ordinal: 0,
    ip: ip(0),
    ready: false,
    error: "Connection is closed.",
    unreachable: "timeout",
    silentMs: 0,
  };
  const plan = decideReplication([closed, replica(1, 0), replica(2, 0)], {
    pod: "redis-x-0",
    ip: ip(0),
  });
  assert.equal(plan.kind, "Wait");
});

Deno.test("decideReplication() keeps the recorded master over a stale master that got a replica back (item 5)", () => {
  // redis-x-0 is the old master, back after a partition with redis-x-1 still
  // following it; redis-x-2 was promoted (recorded) and holds the newer writes.
  const stale = master(0, 900, "b".repeat(40));
  const follower = replica(1, 0, { offset: 900 });
  const recordedMaster = master(2, 300, "c".repeat(40));
  const plan = decideReplication([stale, follower, recordedMaster], {
    pod: "redis-x-2",
    ip: ip(2),
  });
  assert.equal(plan.kind, "Reattach");
  assert.equal(plan.kind === "Reattach" && plan.master.pod, "redis-x-2");
  assert.deepEqual(pods(plan as { reattach?: readonly Instance[] }), ["redis-x-0", "redis-x-1"]);
});

Deno.test("decideReplication() promotes a replica of the lost recorded master over a stale master that got a replica back (item 5)", () => {
  // redis-x-0 is an old master back with redis-x-1 following it; redis-x-2, the recorded
  // master, is gone; redis-x-3, its replica, holds the newer writes of another history.
  const stale = master(0, 900, "b".repeat(40));
  const staleFollower = {
    ...replica(1, 0, { offset: 900 }),
    info: { ...replica(1, 0, { offset: 900 }).info!, replId: "b".repeat(40) },
  };
  const lost: InstanceObservation = {
    pod: "redis-x-2",
    ordinal: 2,
    ip: ip(2),
    ready: true,
    unreachable: "refused",
  };
  const base = replica(3, 2, { up: false, offset: 5000 });
  const ours = {
    ...base,
    info: { ...base.info!, replId: "c".repeat(40), linkDownSinceSeconds: 1 },
  };
  const recorded = { pod: "redis-x-2", ip: ip(2) };
  const plan = decideReplication([stale, staleFollower, lost, ours], recorded);
  assert.equal(plan.kind === "Promote" && plan.reason, "Failover");
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-3");
  assert.deepEqual(pods(plan as { reattach?: readonly Instance[] }), ["redis-x-0", "redis-x-1"]);
  // Two stale masters, each with a replica back: neither is followed either.
  const otherStale = master(4, 700, "d".repeat(40));
  const otherFollower = {
    ...replica(5, 4, { offset: 700 }),
    info: { ...replica(5, 4, { offset: 700 }).info!, replId: "d".repeat(40) },
  };
  const both = decideReplication(
    [stale, staleFollower, lost, ours, otherStale, otherFollower],
    recorded,
  );
  assert.equal(both.kind === "Promote" && both.master.pod, "redis-x-3");
  // Once the recorded master's replica is in the active master's history, it is adopted.
  const caughtUp = { ...ours, info: { ...ours.info, replId: "b".repeat(40), offset: 800 } };
  const adopted = decideReplication([stale, staleFollower, lost, caughtUp], recorded);
  assert.equal(adopted.kind === "Promote" && adopted.reason, "Adopt");
  assert.equal(adopted.kind === "Promote" && adopted.master.pod, "redis-x-0");
});

Deno.test("decideReplication() adopts a user's FAILOVER target over a follower of the lost master that restarted from its disk and never synced", () => {
  const [a, b, z] = ["a", "b", "z"].map((c) => c.repeat(40));
  // redis-x-1, the target, took writes under a new history, redis-x-2 linked to it.
  const target = observe(
    1,
    `role:master\nconnected_slaves:1\nmaster_replid:${b}\nmaster_replid2:${a}\nmaster_repl_offset:1500\nsecond_repl_offset:1001\n`,
  );
  const linked = observe(
    2,
    `role:slave\nmaster_host:${
      ip(1)
    }\nmaster_port:6379\nmaster_link_status:up\nmaster_sync_in_progress:0\nslave_repl_offset:1500\nslave_priority:100\nmaster_replid:${b}\nmaster_replid2:${a}\nmaster_repl_offset:1500\nsecond_repl_offset:1001\n`,
  );
  // redis-x-3 restarted from its AOF, pointed (by the ConfigMap) at the gone recorded master.
  const restarted: InstanceObservation = {
    ...observe(
      3,
      `role:slave\nmaster_host:${
        ip(0)
      }\nmaster_port:6379\nmaster_link_status:down\nmaster_link_down_since_seconds:-1\nmaster_sync_in_progress:0\nslave_repl_offset:0\nslave_priority:100\nmaster_replid:${z}\nmaster_repl_offset:0\n`,
    ),
    keys: 40,
    runningSeconds: 5,
  };
  const recorded = { pod: "redis-x-0", ip: ip(0) };
  const plan = decideReplication([target, linked, restarted], recorded);
  assert.equal(plan.kind === "Promote" && plan.reason, "Adopt");
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-1");
  const persistent = decideReplication(
    [target, linked, { ...restarted, runningSeconds: 61 }],
    recorded,
    { detectionWindowMs: 2000, persistent: true },
  );
  assert.equal(persistent.kind === "Promote" && persistent.master.pod, "redis-x-1");
});

Deno.test("decideReplication() compares offsets only among replicas of the lost master (item 5)", () => {
  const withReplId = (o: InstanceObservation, replId: string, linkDown: number) => ({
    ...o,
    info: { ...o.info!, replId, linkDownSinceSeconds: linkDown, masterLinkUp: false },
  });
  const lost: InstanceObservation = {
    pod: "redis-x-0",
    ip: ip(0),
    ready: true,
    ordinal: 0,
    unreachable: "refused",
  };
  // redis-x-2 follows another address with a larger offset of another history.
  const ofLost = withReplId(replica(1, 0, { offset: 100 }), "a".repeat(40), 1);
  const elsewhere = withReplId(replica(2, "198.18.9.9", { offset: 5000 }), "d".repeat(40), 1);
  const plan = decideReplication([lost, ofLost, elsewhere], { pod: "redis-x-0", ip: ip(0) });
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-1");
});

Deno.test("decideReplication() never promotes a replica that lost its link long before the master (item 5)", () => {
  const linkDown = (o: InstanceObservation, seconds: number) => ({
    ...o,
    info: { ...o.info!, linkDownSinceSeconds: seconds, masterLinkUp: false },
  });
  const lost: InstanceObservation = {
    pod: "redis-x-0",
    ip: ip(0),
    ready: true,
    ordinal: 0,
    unreachable: "refused",
  };
  const staleButAhead = linkDown(replica(1, 0, { offset: 900 }), 3600);
  const recent = linkDown(replica(2, 0, { offset: 100 }), 1);
  const recorded = { pod: "redis-x-0", ip: ip(0) };
  const plan = decideReplication([lost, staleButAhead, recent], recorded);
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-2");
  // The only copy of the data is promoted, however old: waiting would not bring newer data back.
  const onlyStale = decideReplication([lost, staleButAhead, master(3, 0)], recorded);
  assert.equal(onlyStale.kind === "Promote" && onlyStale.master.pod, "redis-x-1");
});

Deno.test("rankCandidates() takes keys loaded from an AOF at offset 0 for data (issue 8, item 9)", () => {
  const loaded = { ...replica(2, 0, { offset: 0 }), keys: 5000 } as Instance;
  const empty = { ...replica(1, 0, { offset: 0 }), keys: 0 } as Instance;
  const fewer = { ...replica(0, 0, { offset: 0 }), keys: 10 } as Instance;
  assert.deepEqual(rankCandidates([empty, fewer, loaded]).map((i) => i.pod), [
    "redis-x-2",
    "redis-x-0",
    "redis-x-1",
  ]);
});

Deno.test("decideReplication() after every pod restarted from its AOF promotes the recorded master's pod, not the one with most keys", () => {
  // New pods, new addresses; each loaded its files (offset 0) and follows the recorded address.
  const gone = "198.18.9.9";
  const restarted = (n: number, keys: number): InstanceObservation => ({
    ...replica(n, gone, { offset: 0, up: false }),
    info: { ...replica(n, gone, { offset: 0, up: false }).info!, linkDownSinceSeconds: -1 },
    keys,
  });
  const plan = decideReplication(
    [restarted(0, 10), restarted(1, 20), restarted(2, 15)],
    { pod: "redis-x-0", ip: gone },
  );
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-0");
  // A replica that kept an offset still wins: it has the data the restarted pod may lack.
  const live = replica(1, gone, { offset: 500, up: false });
  const ahead = decideReplication([restarted(0, 10), live], { pod: "redis-x-0", ip: gone });
  assert.equal(ahead.kind === "Promote" && ahead.master.pod, "redis-x-1");
});

Deno.test("decideReplication() with data volumes waits for the recorded master's pod when every other pod restarted from its own disk", () => {
  // Seen in the persistence test: every pod deleted at once; the replicas stopped first (a
  // few acknowledged writes had not reached them), the master saved them to its AOF and went;
  // the replicas' new pods came back before the master's.
  const gone = "198.18.9.9";
  const restarted = (n: number, keys: number, runningSeconds: number): InstanceObservation => ({
    ...replica(n, gone, { offset: 0, up: false }),
    info: { ...replica(n, gone, { offset: 0, up: false }).info!, linkDownSinceSeconds: -1 },
    keys,
    runningSeconds,
  });
  const recorded = { pod: "redis-x-1", ip: gone };
  const waiting = decideReplication([restarted(0, 2080, 1), restarted(2, 2088, 1)], recorded, {
    detectionWindowMs: 1000,
    persistent: true,
  });
  assert.equal(waiting.kind, "Wait");
  assert.match(waiting.kind === "Wait" ? waiting.message : "", /redis-x-1 to come back/);
  // Back: it is chosen (its files hold the last writes).
  const back = decideReplication(
    [restarted(0, 2080, 2), restarted(1, 2093, 0.5), restarted(2, 2088, 2)],
    recorded,
    { detectionWindowMs: 1000, persistent: true },
  );
  assert.equal(back.kind === "Promote" && back.master.pod, "redis-x-1");
  // Not back after the wait: the best of the others, rather than no master at all.
  const late = decideReplication(
    [restarted(0, 2080, persistentMasterWaitSeconds), restarted(2, 2088, 70)],
    recorded,
    { detectionWindowMs: 1000, persistent: true },
  );
  assert.equal(late.kind, "Promote");
  // Without data volumes a gone pod comes back empty: no wait.
  const emptyDir = decideReplication([restarted(0, 2080, 1), restarted(2, 2088, 1)], recorded, {
    detectionWindowMs: 1000,
  });
  assert.equal(emptyDir.kind, "Promote");
  // A replica that was linked to the master until it went has the data: no wait either.
  const linked = decideReplication(
    [restarted(0, 2080, 1), {
      ...replica(2, gone, { offset: 700, up: false }),
      info: { ...replica(2, gone, { offset: 700, up: false }).info!, linkDownSinceSeconds: 1 },
      runningSeconds: 300,
    }],
    recorded,
    { detectionWindowMs: 1000, persistent: true },
  );
  assert.equal(linked.kind === "Promote" && linked.master.pod, "redis-x-2");
  // Redis 6 says a never-linked replica's link has been down since 1970: still no history.
  const redis6 = (n: number): InstanceObservation => ({
    ...restarted(n, 2080, 3),
    info: { ...restarted(n, 2080, 3).info!, linkDownSinceSeconds: 1_795_000_000 },
  });
  const old = decideReplication([redis6(0), redis6(2)], recorded, {
    detectionWindowMs: 1000,
    persistent: true,
  });
  assert.equal(old.kind, "Wait");
});

Deno.test("decideReplication() promotes a survivor parked away from a gone master over empty pods that follow its address (item 7)", () => {
  const gone = ip(0);
  const linkDown = (o: InstanceObservation, seconds: number): InstanceObservation => ({
    ...o,
    info: { ...o.info!, masterLinkUp: false, linkDownSinceSeconds: seconds },
  });
  const parked = linkDown(replica(1, "127.0.0.1", { offset: 900 }), 300);
  // Recreated pods start as replicas of the recorded address and hold nothing.
  const empty = (n: number) => linkDown(replica(n, gone, { offset: 0 }), -1);
  const plan = decideReplication([parked, empty(2), empty(3)], { pod: "redis-x-0", ip: gone });
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-1");
});

Deno.test("decideReplication() never adopts a stale master without replicas over a replica of the lost one", () => {
  const staleMaster = master(1, 5000, "e".repeat(40));
  const follower: InstanceObservation = {
    ...replica(2, 0, { offset: 300 }),
    info: { ...replica(2, 0, { offset: 300 }).info!, masterLinkUp: false, linkDownSinceSeconds: 2 },
  };
  const lost: InstanceObservation = {
    pod: "redis-x-0",
    ordinal: 0,
    ip: ip(0),
    ready: true,
    unreachable: "refused",
  };
  const plan = decideReplication([lost, staleMaster, follower], { pod: "redis-x-0", ip: ip(0) });
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-2");
});

Deno.test("decideReplication() never promotes a replica linked to the gone master's address, now a stranger's", () => {
  // redis-x-0's pod is gone and another Redis took its address: redis-x-1 reached it and
  // copied it (link up, another history); redis-x-2 still holds our data.
  const linkedToStranger = {
    ...replica(1, 0, { offset: 50 }),
    info: { ...replica(1, 0, { offset: 50 }).info!, replId: "f".repeat(40) },
  };
  const ours: InstanceObservation = {
    ...replica(2, 0, { offset: 100000 }),
    info: {
      ...replica(2, 0, { offset: 100000 }).info!,
      masterLinkUp: false,
      linkDownSinceSeconds: 3,
    },
  };
  const plan = decideReplication([linkedToStranger, ours], { pod: "redis-x-0", ip: ip(0) });
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-2");
});

Deno.test("decideReplication() hands a healthy master over when asked, and not without a replica in sync", () => {
  const recorded = { pod: "redis-x-0", ip: ip(0) };
  const asked = { detectionWindowMs: 2000, switchover: {} };
  const plan = decideReplication([master(0), replica(1, 0), replica(2, 0)], recorded, asked);
  assert.equal(plan.kind === "Switchover" && plan.reason, "Requested");
  assert.equal(plan.kind === "Switchover" && plan.from.pod, "redis-x-0");
  // Not asked: nothing to do.
  assert.equal(
    decideReplication([master(0), replica(1, 0), replica(2, 0)], recorded).kind,
    "Healthy",
  );
  // Asked, but no replica could take over: the request waits and holds nothing up.
  const unready = decideReplication(
    [master(0), replica(1, 0, { up: false }), replica(2, 0, { syncing: true })],
    recorded,
    asked,
  );
  assert.notEqual(unready.kind, "Switchover");
  assert.notEqual(unready.kind, "Wait");
});

Deno.test("decideReplication() hands over to the pod asked for, and to no other", () => {
  const recorded = { pod: "redis-x-0", ip: ip(0) };
  const to = (pod: string) => ({ detectionWindowMs: 2000, switchover: { to: pod } });
  // redis-x-2 has less data than redis-x-1, but it is the one asked for.
  const instances = [master(0, 100), replica(1, 0, { offset: 100 }), replica(2, 0, { offset: 90 })];
  const plan = decideReplication(instances, recorded, to("redis-x-2"));
  assert.equal(plan.kind === "Switchover" && plan.master.pod, "redis-x-2");
  // The one asked for cannot take over: nothing moves.
  const behind = [master(0), replica(1, 0), replica(2, 0, { syncing: true })];
  assert.equal(decideReplication(behind, recorded, to("redis-x-2")).kind, "Healthy");
});

Deno.test("decideReplication() leaves a handed-over master parked while its read hold runs, then points it at the new master", () => {
  // redis-x-0 handed over to redis-x-1 and was parked; redis-x-2 still follows it.
  const observations = [replica(0, "127.0.0.1", { up: false }), master(1), replica(2, 0)];
  const recorded = { pod: "redis-x-1", ip: ip(1) };
  const holding = decideReplication(observations, recorded, {
    detectionWindowMs: 2000,
    readHolds: new Map([["redis-x-0", 1500]]),
  });
  assert.equal(holding.kind, "Reattach", "the other replica is not held up");
  assert.deepEqual(pods(holding), ["redis-x-2"]);

  const onlyHeld = [replica(0, "127.0.0.1", { up: false }), master(1), replica(2, 1)];
  const waiting = decideReplication(onlyHeld, recorded, {
    detectionWindowMs: 2000,
    readHolds: new Map([["redis-x-0", 1500]]),
  });
  assert.equal(waiting.kind, "Wait");
  assert.equal(waiting.kind === "Wait" && waiting.recheckMs, 1500, "looked at again when it ends");
  assert.match(waiting.kind === "Wait" ? waiting.message : "", /redis-x-0 refuses reads/);

  const ended = decideReplication(onlyHeld, recorded, {
    detectionWindowMs: 2000,
    readHolds: new Map(),
  });
  assert.equal(ended.kind, "Reattach");
  assert.deepEqual(pods(ended), ["redis-x-0"]);

  // A hold names a pod, not a state: the same pod following the master is simply healthy.
  const healthy = decideReplication([replica(0, 1), master(1), replica(2, 1)], recorded, {
    detectionWindowMs: 2000,
    readHolds: new Map([["redis-x-0", 1500]]),
  });
  assert.equal(healthy.kind, "Healthy");
});

/** INFO of a master that `FAILOVER TO` demoted to a replica of `target`, link not yet up. */
function demotedByFailover(ordinal: number, target: number, state: string): InstanceObservation {
  return observe(
    ordinal,
    [
      "role:slave",
      `master_host:${ip(target)}`,
      "master_port:6379",
      "master_link_status:down",
      "master_sync_in_progress:0",
      "slave_repl_offset:1000",
      "slave_priority:100",
      `master_failover_state:${state}`,
      `master_replid:${"a".repeat(40)}`,
      "master_repl_offset:1000",
    ].join("\n"),
  );
}

Deno.test("decideReplication() waits out a user's FAILOVER TO while the old master is demoted and the target not yet promoted", () => {
  // Every replica still follows the old master's address, as a lost master's would: the
  // plan must not promote the lowest ordinal over the user's target.
  const plan = decideReplication(
    [
      demotedByFailover(0, 3, "failover-in-progress"),
      replica(1, 0),
      replica(2, 0),
      replica(3, 0),
    ],
    { pod: "redis-x-0", ip: ip(0) },
  );
  assert.equal(plan.kind, "Wait");
  assert.equal(plan.kind === "Wait" && plan.recheckMs, 100);
  assert.match(plan.kind === "Wait" ? plan.message : "", /handing over to redis-x-3/);
});

Deno.test("decideReplication() follows the target of a user's FAILOVER TO once it is a master, before the old master's link is up", () => {
  const plan = decideReplication(
    [demotedByFailover(0, 3, "no-failover"), replica(1, 0), replica(2, 0), master(3, 1000)],
    { pod: "redis-x-0", ip: ip(0) },
  );
  assert.equal(plan.kind, "Promote");
  if (plan.kind !== "Promote") return;
  assert.equal(plan.reason, "Adopt");
  assert.equal(plan.master.pod, "redis-x-3");
  assert.equal(plan.promote, false);
  assert.deepEqual(pods(plan), ["redis-x-1", "redis-x-2"]);
});

Deno.test("decideReplication() treats a demoted master whose target is not one of ours as lost, as before", () => {
  // Redis ends a FAILOVER whose target never answers; the target must be an instance here.
  const plan = decideReplication(
    [
      demotedByFailover(0, 9, "failover-in-progress"),
      replica(1, 0),
      replica(2, 0, { offset: 90 }),
    ],
    { pod: "redis-x-0", ip: ip(0) },
  );
  assert.equal(plan.kind, "Promote");
  assert.equal(plan.kind === "Promote" && plan.master.pod, "redis-x-1");
});

Deno.test("decideReplication() does not follow a demoted master to a target of another history", () => {
  // A REPLICAOF sent to the master by a stale tool, pointing at a former master of history
  // "b" that came back: following it would drop what x-1 and x-2 hold of history "a".
  const plan = decideReplication(
    [
      demotedByFailover(0, 3, "no-failover"),
      replica(1, 0, { offset: 1000 }),
      replica(2, 0, { offset: 1000 }),
      master(3, 500, "b".repeat(40)),
    ],
    { pod: "redis-x-0", ip: ip(0) },
  );
  assert.equal(plan.kind, "Promote");
  if (plan.kind !== "Promote") return;
  assert.equal(plan.reason, "Failover");
  assert.equal(plan.master.pod, "redis-x-1");
});

Deno.test("decideReplication() follows a target promoted with the others' history up to their offsets", () => {
  // After FAILOVER the target has a new ID; the one before is replid2 up to second_repl_offset.
  const promoted = observe(
    3,
    [
      "role:master",
      "connected_slaves:0",
      `master_replid:${"c".repeat(40)}`,
      `master_replid2:${"a".repeat(40)}`,
      "master_repl_offset:1000",
      "second_repl_offset:1001",
    ].join("\n"),
  );
  const behind = observe(
    3,
    [
      "role:master",
      "connected_slaves:0",
      `master_replid:${"c".repeat(40)}`,
      `master_replid2:${"a".repeat(40)}`,
      "master_repl_offset:900",
      "second_repl_offset:801",
    ].join("\n"),
  );
  const others = [replica(1, 0, { offset: 1000 }), replica(2, 0, { offset: 1000 })];
  const recorded = { pod: "redis-x-0", ip: ip(0) };
  const adopted = decideReplication(
    [demotedByFailover(0, 3, "no-failover"), ...others, promoted],
    recorded,
  );
  assert.equal(adopted.kind === "Promote" && adopted.reason, "Adopt");
  // Promoted with FORCE at 800 while the others had 1000: not followed.
  const refused = decideReplication(
    [demotedByFailover(0, 3, "no-failover"), ...others, behind],
    recorded,
  );
  assert.equal(refused.kind === "Promote" && refused.reason, "Failover");
  assert.equal(refused.kind === "Promote" && refused.master.pod, "redis-x-1");
});

Deno.test("decideReplication() waits for a FAILOVER in progress only while its target heard the old master within the window", () => {
  // Redis retries a handshake the target cannot answer forever (it is loading, AUTH fails).
  const silent = observe(
    3,
    [
      "role:slave",
      `master_host:${ip(0)}`,
      "master_port:6379",
      "master_link_status:up",
      "master_last_io_seconds_ago:5",
      "master_sync_in_progress:0",
      "slave_repl_offset:100",
      "slave_priority:100",
      `master_replid:${"a".repeat(40)}`,
      "master_repl_offset:100",
    ].join("\n"),
  );
  const plan = decideReplication(
    [demotedByFailover(0, 3, "failover-in-progress"), replica(1, 0), replica(2, 0), silent],
    { pod: "redis-x-0", ip: ip(0) },
  );
  assert.notEqual(plan.kind, "Wait");
});
