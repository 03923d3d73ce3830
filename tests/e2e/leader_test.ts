/**
 * Two operator replicas: killing the leader hands the Lease to another
 * process, and management continues.
 */
import assert from "node:assert/strict";
import { fault, kubectl, redisCli, waitFor } from "../cluster/helpers.ts";
import { withReadyRedis } from "./fixture.ts";
import { getRedis, leaderPod, leaseHolder, waitForReady } from "./operator.ts";

Deno.test("killing the leading operator hands leadership over and management continues", () =>
  withReadyRedis("leader", "led", async ({ client, namespace, ready: redis }) => {
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

    await kubectl(["-n", namespace, "delete", "pod", redis.status!.master!, "--wait=false"]);
    const after = await waitFor("a failover by the new leader", async () => {
      const now = await getRedis(client, namespace, "led");
      return now.status?.master && now.status.master !== redis.status!.master ? now : undefined;
    }, 30_000);
    assert.equal(await redisCli(after.status!.masterIP!, "GET", "k"), "v");
    await waitForReady(client, namespace, "led");
  }));
