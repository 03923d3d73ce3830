import assert from "node:assert/strict";
import { emptyReplId, parseReplicaLine, parseReplicationInfo } from "./info.ts";

const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`../../tests/fixtures/info/${name}.txt`, import.meta.url));

Deno.test("parseReplicationInfo() reads a master with two online replicas (captured from redis-server 7.0)", () => {
  const info = parseReplicationInfo(fixture("master_two_replicas"));
  assert.equal(info.role, "master");
  assert.equal(info.offset, 50);
  assert.equal(info.replId2, emptyReplId);
  assert.equal(info.failoverState, "no-failover");
  assert.deepEqual(info.connectedReplicas.map((r) => `${r.ip}:${r.port} ${r.state}`), [
    "127.0.0.1:7102 online",
    "127.0.0.1:7103 online",
  ]);
});

Deno.test("parseReplicationInfo() reads a connected replica", () => {
  const info = parseReplicationInfo(fixture("replica_connected"));
  assert.equal(info.role, "replica");
  assert.equal(info.masterHost, "127.0.0.1");
  assert.equal(info.masterPort, 7101);
  assert.equal(info.masterLinkUp, true);
  assert.equal(info.syncInProgress, false);
  assert.equal(info.replicaOffset, 50);
  assert.equal(info.priority, 100);
});

Deno.test("parseReplicationInfo() keeps the cached offset of a replica whose link is down", () => {
  const info = parseReplicationInfo(fixture("replica_link_down"));
  assert.equal(info.masterLinkUp, false);
  assert.ok(info.linkDownSinceSeconds! >= 1);
  assert.equal(info.offset, 87);
});

Deno.test("parseReplicationInfo() shows a promoted master's previous id as replid2", () => {
  const info = parseReplicationInfo(fixture("promoted_master"));
  assert.equal(info.role, "master");
  assert.notEqual(info.replId2, emptyReplId);
  assert.equal(info.secondReplOffset, 88);
});

Deno.test("parseReplicationInfo() accepts CRLF and the replica_* spellings", () => {
  const info = parseReplicationInfo(
    "# Replication\r\nrole:replica\r\nmaster_host:fd00::7\r\nmaster_port:6380\r\nmaster_link_status:up\r\nreplica_repl_offset:9\r\nreplica_priority:0\r\n",
  );
  assert.equal(info.role, "replica");
  assert.equal(info.masterHost, "fd00::7");
  assert.equal(info.replicaOffset, 9);
  assert.equal(info.priority, 0);
});

Deno.test("parseReplicaLine() handles IPv6 addresses", () => {
  assert.deepEqual(parseReplicaLine("ip=fd00::1:2,port=6379,state=online,offset=123,lag=0"), {
    ip: "fd00::1:2",
    port: 6379,
    state: "online",
    offset: 123,
    lag: 0,
  });
});

Deno.test("parseReplicationInfo() refuses text without a role", () => {
  assert.throws(() => parseReplicationInfo("# Replication\nconnected_slaves:0\n"), /no valid role/);
});
