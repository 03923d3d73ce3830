/**
 * The Sentinel endpoint on the local cluster, on each operator replica (the
 * leader and the follower): a Redis with a password stays hidden until AUTH
 * gives that password; a second Redis asking for a taken master name is
 * refused with a condition and an Event; changes are refused; every replica
 * pushes `+switch-master` on a failover, with idle and misbehaving clients
 * connected all the while; the metrics count clients and messages.
 */
import assert from "node:assert/strict";
import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import { clusterClient, fault, kubectl, testNamespace, waitFor } from "../cluster/helpers.ts";
import { RawResp, type Wire } from "../redis/raw_resp.ts";
import {
  deployOperator,
  getRedis,
  redisManifest,
  scrapeMetrics,
  waitForReady,
} from "./operator.ts";

const bulks = (wire: Wire) =>
  wire.type === "array" ? wire.items.map((i) => "value" in i ? String(i.value) : "") : [];

Deno.test("Sentinel endpoint: passwords, names, every replica, misbehaving clients", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("sentinel-e2e");
  const n = ns.name;
  // Master names are one space across the cluster: this test's own.
  const masterName = `locked-${n}`;
  const connections: RawResp[] = [];
  const connect = async (ip: string) => {
    const connection = await RawResp.connect(ip, 26379);
    connections.push(connection);
    return connection;
  };
  try {
    await kubectl(["-n", n, "create", "secret", "generic", "pw", "--from-literal=password=s3cret"]);
    await kubectl(
      ["-n", n, "apply", "-f", "-"],
      redisManifest("locked", {
        password: { secretKeyRef: { name: "pw", key: "password" } },
        sentinel: { masterName },
      }),
    );
    const redis = await waitForReady(client, n, "locked", 3, 120_000);
    const operators = (await client.request<{ items: Pod[] }>({
      path:
        "/api/v1/namespaces/redis-operator/pods?labelSelector=app.kubernetes.io/name%3Dredis-operator",
    })).items.filter((p) => p.status?.podIP && !p.metadata?.deletionTimestamp);
    assert.equal(operators.length, 2, "both operator replicas serve");

    const subscribers: RawResp[] = [];
    for (const operator of operators) {
      const ip = operator.status!.podIP!;
      const anonymous = await connect(ip);
      // Hidden until authenticated: not listed, and asked by name, a password is wanted.
      const masters = await anonymous.call("SENTINEL", "MASTERS");
      assert.ok(!JSON.stringify(masters).includes(masterName), "not listed without AUTH");
      assert.deepEqual(await anonymous.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName), {
        type: "error",
        value: "NOAUTH Authentication required.",
      });
      assert.equal((await anonymous.call("AUTH", "wrong")).type, "error");
      assert.deepEqual(await anonymous.call("AUTH", "s3cret"), { type: "simple", value: "OK" });
      await waitFor(`${operator.metadata!.name} to name the master`, async () => {
        const answer = bulks(
          await anonymous.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName),
        );
        return answer[0] === redis.status!.masterIP ? true : undefined;
      });
      const refused = await anonymous.call("SENTINEL", "SET", masterName, "quorum", "5");
      assert.match(refused.type === "error" ? refused.value : "", /kubectl edit redis/);
      // A subscriber on each replica, for the failover below.
      const subscriber = await connect(ip);
      assert.deepEqual(await subscriber.call("AUTH", "default", "s3cret"), {
        type: "simple",
        value: "OK",
      });
      await subscriber.call("SUBSCRIBE", "+switch-master");
      subscribers.push(subscriber);
      // Clients that misbehave: a malformed frame, an oversized one, and 500 idle ones.
      const malformed = await connect(ip);
      await malformed.writeRaw(new TextEncoder().encode("*1\r\n+PING\r\n"));
      assert.equal((await malformed.read()).type, "error");
      const oversized = await connect(ip);
      await oversized.writeRaw(new TextEncoder().encode("*1\r\n$999999999\r\n"));
      assert.equal((await oversized.read()).type, "error");
      for (let i = 0; i < 500; i++) await connect(ip);
    }

    // A second Redis asking for the same name is refused, with a condition and an Event.
    await kubectl(
      ["-n", n, "apply", "-f", "-"],
      redisManifest("rival", { sentinel: { masterName } }),
    );
    // It runs, Ready: the conflict holds up neither replication nor rollouts.
    await waitFor("the rival Ready, reporting the name conflict", async () => {
      const rival = await getRedis(client, n, "rival");
      const condition = (type: string) => rival.status?.conditions?.find((c) => c.type === type);
      const degraded = condition("Degraded");
      return degraded?.status === "True" && degraded.reason === "SentinelNameConflict" &&
          condition("Ready")?.status === "True" && rival.status?.sentinelMasterName === ""
        ? true
        : undefined;
    }, 90_000);
    assert.equal((await getRedis(client, n, "locked")).status?.sentinelMasterName, masterName);
    const events = await client.request<{ items: Event[] }>({
      path: `/api/v1/namespaces/${n}/events?fieldSelector=involvedObject.name%3Drival`,
    });
    assert.ok(events.items.some((e) => e.reason === "SentinelNameConflict"), "an Event says so");
    // The name still answers with the first Redis.
    const check = await connect(operators[0]!.status!.podIP!);
    await check.call("AUTH", "s3cret");
    assert.equal(
      bulks(await check.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName))[0],
      redis.status!.masterIP,
    );

    // A failover, with all those clients connected: every replica pushes +switch-master.
    await fault("kill", n, redis.status!.master!);
    const after = await waitFor("a new master", async () => {
      const now = await getRedis(client, n, "locked");
      return now.status?.masterIP && now.status.masterIP !== redis.status!.masterIP
        ? now
        : undefined;
    }, 60_000);
    for (const subscriber of subscribers) {
      // Other tests' Redis resources without a password are visible too, and may fail over
      // meanwhile (their namespaces are being deleted): ours is the one named.
      let message = await subscriber.read(30_000);
      while (!bulks(message)[2]?.startsWith(`${masterName} `)) {
        message = await subscriber.read(30_000);
      }
      assert.deepEqual(bulks(message), [
        "message",
        "+switch-master",
        `${masterName} ${redis.status!.masterIP} 6379 ${after.status!.masterIP} 6379`,
      ]);
    }
    for (const operator of operators) {
      const metrics = await scrapeMetrics(operator);
      assert.ok(
        (metrics.get("redis_operator_sentinel_clients") ?? 0) >= 500,
        `${operator.metadata!.name} counts its clients`,
      );
      assert.ok(
        (metrics.get('redis_operator_sentinel_messages_total{channel="+switch-master"}') ?? 0) >= 1,
        `${operator.metadata!.name} counts the message it pushed`,
      );
    }
  } finally {
    for (const connection of connections) connection.close();
    await ns.remove();
    client.close();
  }
});
