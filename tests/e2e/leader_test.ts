/**
 * Two operator replicas: killing the leader hands the Lease to another
 * process, and management continues.
 */
import assert from "node:assert/strict";
import {
  clusterClient,
  fault,
  kubectl,
  redisCli,
  testNamespace,
  waitFor,
} from "../cluster/helpers.ts";
import {
  deployOperator,
  getRedis,
  leaderPod,
  leaseHolder,
  redisManifest,
  waitForReady,
} from "./operator.ts";

Deno.test("killing the leading operator hands leadership over and management continues", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("leader");
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("led"));
    const redis = await waitForReady(client, ns.name, "led");
    assert.equal(await redisCli(redis.status!.masterIP!, "SET", "k", "v"), "OK");

    const oldHolder = (await leaseHolder(client))!;
    const leader = (await leaderPod(client))!;
    const killed = Date.now();
    await fault("kill", "redis-operator", leader.metadata!.name!);
    const newHolder = await waitFor("a new lease holder", async () => {
      const holder = await leaseHolder(client);
      return holder && holder !== oldHolder ? holder : undefined;
    }, 60_000);
    console.log(
      `leadership moved from ${oldHolder} to ${newHolder} after ${Date.now() - killed} ms`,
    );

    await kubectl(["-n", ns.name, "delete", "pod", redis.status!.master!, "--wait=false"]);
    const after = await waitFor("a failover by the new leader", async () => {
      const now = await getRedis(client, ns.name, "led");
      return now.status?.master && now.status.master !== redis.status!.master ? now : undefined;
    }, 30_000);
    assert.equal(await redisCli(after.status!.masterIP!, "GET", "k"), "v");
    await waitForReady(client, ns.name, "led");
  } finally {
    await ns.remove();
    client.close();
  }
});
