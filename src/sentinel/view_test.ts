import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import type { Redis } from "../api/redis.ts";
import {
  assignMasterNames,
  buildEntries,
  knownMasters,
  masterNameStanding,
  masterSwitches,
  switchMasterMessage,
} from "./view.ts";

function redis(namespace: string, name: string, created: string, spec: Redis["spec"] = {}): Redis {
  return {
    apiVersion: "redis-operator.dev/v1alpha1",
    kind: "Redis",
    metadata: { namespace, name, creationTimestamp: created },
    spec: { replicas: 3, ...spec },
    status: { master: `redis-${name}-0`, masterIP: "10.0.0.1", epoch: 4 },
  } as Redis;
}

function pod(name: string, ip: string, role: string, ready = true): Pod {
  return {
    metadata: { name, labels: { redis: "app", role } },
    status: {
      podIP: ip,
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  };
}

function slice(ip?: string): EndpointSlice {
  return {
    addressType: "IPv4",
    endpoints: ip ? [{ addresses: [ip], conditions: { ready: true } }] : [],
  } as EndpointSlice;
}

Deno.test("a chosen master name goes to the oldest Redis asking for it", () => {
  const older = redis("a", "cache", "2026-01-01T00:00:00Z", {
    sentinel: { masterName: "mymaster" },
  });
  const newer = redis("b", "cache", "2026-02-01T00:00:00Z", {
    sentinel: { masterName: "mymaster" },
  });
  const plain = redis("c", "cache", "2026-03-01T00:00:00Z");
  const { served, refused } = assignMasterNames([newer, plain, older]);
  assert.equal(served.get("mymaster"), "a/cache");
  assert.equal(served.get("c/cache"), "c/cache");
  assert.deepEqual([...refused], ["b/cache"]);
  const message = masterNameStanding(newer, [newer, older]).conflict!;
  assert.match(message, /"mymaster" is already served/);
  // The holder's namespace is not given away.
  assert.doesNotMatch(message, /\ba\/cache\b/);
  assert.equal(masterNameStanding(older, [newer, older]).conflict, undefined);
  // Once the holder is being deleted, the name passes on.
  const deleting = { ...older, metadata: { ...older.metadata, deletionTimestamp: "now" } };
  assert.equal(assignMasterNames([newer, deleting]).served.get("mymaster"), "b/cache");
});

Deno.test("the master comes from the master Service's slice, replicas from the pods", () => {
  const app = redis("ns", "app", "2026-01-01T00:00:00Z", {
    password: { secretKeyRef: { name: "s", key: "k" } },
  });
  const pods = [
    pod("redis-app-0", "10.0.0.1", "master"),
    pod("redis-app-1", "10.0.0.2", "replica"),
    pod("redis-app-2", "10.0.0.3", "replica", false),
  ];
  const [entry] = buildEntries({
    redis: [app],
    podsOf: () => pods,
    masterSlice: (_, name) => name === "redis-app-master" ? slice("10.0.0.1") : undefined,
  });
  assert.deepEqual(entry, {
    key: "ns/app",
    name: "ns/app",
    protected: true,
    port: 6379,
    master: { ip: "10.0.0.1", port: 6379, up: true },
    replicas: [
      { ip: "10.0.0.2", port: 6379, up: true, masterIp: "10.0.0.1" },
      { ip: "10.0.0.3", port: 6379, up: false, masterIp: "10.0.0.1" },
    ],
    epoch: 4,
    downAfterMs: 2000,
  });
  // No master in the slice: the recorded one, marked down, while its pod has the address.
  const [lost] = buildEntries({ redis: [app], podsOf: () => pods, masterSlice: () => slice() });
  assert.deepEqual(lost!.master, { ip: "10.0.0.1", port: 6379, up: false });
  // Once no pod has it, it may be anyone's: no master is named.
  const [gone] = buildEntries({
    redis: [app],
    podsOf: () => pods.slice(1),
    masterSlice: () => slice(),
  });
  assert.equal(gone!.master, undefined);
  // With spec.tls, clients are sent to the TLS port, and told of switches there.
  const secure = { ...app, spec: { ...app.spec, tls: { secretName: "certs" } } } as Redis;
  const [tls] = buildEntries({
    redis: [secure],
    podsOf: () => pods,
    masterSlice: () => slice("10.0.0.2"),
  });
  assert.deepEqual(tls!.master, { ip: "10.0.0.2", port: 6380, up: true });
  assert.ok(tls!.replicas.every((r) => r.port === 6380));
  const { switches } = masterSwitches(new Map([["ns/app", "10.0.0.1"]]), [tls!]);
  assert.deepEqual(switches[0]?.to, { ip: "10.0.0.2", port: 6380 });
});

Deno.test("+switch-master only when the slice names another master", () => {
  const app = redis("ns", "app", "2026-01-01T00:00:00Z");
  const entriesWith = (ip?: string) =>
    buildEntries({ redis: [app], podsOf: () => [], masterSlice: () => slice(ip) });
  const first = masterSwitches(new Map(), entriesWith("10.0.0.1"));
  assert.deepEqual(first.switches, []);
  // The master lost, no new one yet: nothing to say, and the old address is remembered.
  const gap = masterSwitches(first.next, entriesWith(undefined));
  assert.deepEqual(gap.switches, []);
  const moved = masterSwitches(gap.next, entriesWith("10.0.0.2"));
  assert.deepEqual(moved.switches.map(switchMasterMessage), ["ns/app 10.0.0.1 6379 10.0.0.2 6379"]);
  assert.deepEqual(masterSwitches(moved.next, entriesWith("10.0.0.2")).switches, []);
});

Deno.test("the Redis holding a name keeps it when an older one asks for it later", () => {
  const holder = {
    ...redis("b", "cache", "2026-02-01T00:00:00Z", { sentinel: { masterName: "mymaster" } }),
  };
  holder.status = { ...holder.status, sentinelMasterName: "mymaster" };
  const older = redis("a", "cache", "2026-01-01T00:00:00Z", {
    sentinel: { masterName: "mymaster" },
  });
  assert.equal(assignMasterNames([older, holder]).served.get("mymaster"), "b/cache");
  assert.equal(masterNameStanding(holder, [older, holder]).served, "mymaster");
  assert.equal(masterNameStanding(older, [older, holder]).served, "");
});

Deno.test("an endpoint started while the master is down announces the next one as a switch", () => {
  const app = redis("ns", "app", "2026-01-01T00:00:00Z");
  const pods = [pod("redis-app-0", "10.0.0.1", "master", false)];
  const entriesWith = (ip?: string) =>
    buildEntries({ redis: [app], podsOf: () => pods, masterSlice: () => slice(ip) });
  // At start the slice is empty: the recorded master (10.0.0.1, its pod not Ready) is what
  // clients last knew.
  const known = knownMasters(entriesWith(undefined));
  const moved = masterSwitches(known, entriesWith("10.0.0.2"));
  assert.deepEqual(moved.switches.map(switchMasterMessage), ["ns/app 10.0.0.1 6379 10.0.0.2 6379"]);
});
