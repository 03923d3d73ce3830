/**
 * Chaos on the operator itself, under a recorded write load: the leader is
 * killed between writing its intent and promoting; the leader is cut off from
 * the API server. Another replica takes over and finishes the work.
 */
import assert from "node:assert/strict";
import { clusterClient, fault, kubectl, testNamespace, waitFor } from "../cluster/helpers.ts";
import {
  deployOperator,
  getRedis,
  leaderPod,
  leaseHolder,
  redisManifest,
  waitForReady,
} from "../e2e/operator.ts";
import { FullSyncTracker } from "./full_syncs.ts";
import { assertOneMasterEverywhere } from "./invariants.ts";
import { lostWrites, WriteLoad } from "./write_load.ts";

const pauseVariable = "REDIS_OPERATOR_TEST_PAUSE_AFTER_INTENT_MS";

async function setOperatorEnv(assignment: string): Promise<void> {
  await kubectl(["-n", "redis-operator", "set", "env", "deployment/redis-operator", assignment]);
  await kubectl([
    "-n",
    "redis-operator",
    "rollout",
    "status",
    "deployment/redis-operator",
    "--timeout=120s",
  ]);
}

Deno.test("the leading operator killed between intent and promotion: the next leader finishes the failover", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  await setOperatorEnv(`${pauseVariable}=4000`);
  const ns = await testNamespace("intent");
  try {
    await waitFor("a leader with the pause", () => leaderPod(client));
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("intent"));
    const before = await waitForReady(client, ns.name, "intent", 3, 120_000);
    const load = new WriteLoad(client, ns.name, "redis-intent-master");
    await load.start();
    const fullSyncs = new FullSyncTracker(client, ns.name, "intent");
    await fullSyncs.start();
    const killedAt = Date.now();
    await fault("kill", ns.name, before.status!.master!);
    // The leader writes its intent (a new epoch), then pauses before promoting: kill it there.
    const intent = await waitFor("the intent in the status", async () => {
      const now = await getRedis(client, ns.name, "intent");
      return (now.status?.epoch ?? 0) > (before.status!.epoch ?? 0) ? now : undefined;
    }, 20_000);
    const holder = await leaseHolder(client);
    await fault("kill", "redis-operator", (await leaderPod(client))!.metadata!.name!);
    await waitFor("another leader", async () => {
      const now = await leaseHolder(client);
      return now && now !== holder ? true : undefined;
    }, 60_000);
    const after = await waitForReady(client, ns.name, "intent", 3, 120_000);
    assert.ok(after.status!.epoch! >= intent.status!.epoch!, "epochs never go back");
    assert.notEqual(after.status!.masterIP, before.status!.masterIP);
    const report = await load.stop();
    const syncs = await fullSyncs.assertNoNeedlessFullSync();
    await assertOneMasterEverywhere(client, ns.name, "intent");
    const lost = await lostWrites(after.status!.masterIP!, report.acks);
    for (const seq of lost) {
      const ack = report.acks.find((a) => a.seq === seq)!;
      assert.ok(
        ack.ip === before.status!.masterIP && killedAt - ack.at <= 3000,
        `write ${seq} lost outside the bound`,
      );
    }
    console.log(
      `leader killed after its intent: finished by the next leader; ${lost.length} of ${report.acks.length} writes lost; ${syncs.fullSyncs} full resyncs for ${syncs.newProcesses} new processes`,
    );
  } finally {
    await ns.remove();
    await setOperatorEnv(`${pauseVariable}-`);
    client.close();
  }
});

Deno.test("the leading operator cut off from the API server stops leading; the other takes over", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("cutoff");
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("cutoff"));
    const before = await waitForReady(client, ns.name, "cutoff");
    const fullSyncs = new FullSyncTracker(client, ns.name, "cutoff");
    await fullSyncs.start();
    const holder = await leaseHolder(client);
    const leader = (await leaderPod(client))!;
    await fault("isolate", "redis-operator", leader.metadata!.name!);
    try {
      const next = await waitFor("another leader", async () => {
        const now = await leaseHolder(client);
        return now && now !== holder ? now : undefined;
      }, 60_000);
      assert.ok(!next.startsWith(leader.metadata!.name!), "the isolated pod does not lead");
      await kubectl(["-n", ns.name, "delete", "pod", before.status!.master!, "--wait=false"]);
      const after = await waitFor("a handover by the new leader", async () => {
        const now = await getRedis(client, ns.name, "cutoff");
        return now.status?.master !== before.status!.master ? now : undefined;
      }, 30_000);
      assert.ok(after.status!.master);
    } finally {
      await fault("heal", "redis-operator", leader.metadata!.name!);
    }
    await waitForReady(client, ns.name, "cutoff");
    await assertOneMasterEverywhere(client, ns.name, "cutoff");
    const syncs = await fullSyncs.assertNoNeedlessFullSync();
    console.log(
      `leader cut off: handover by the next leader; ${syncs.fullSyncs} full resyncs for ${syncs.newProcesses} new processes`,
    );
  } finally {
    await ns.remove();
    client.close();
  }
});
