/**
 * Chaos on the operator itself, under a recorded write load: the leader is
 * killed between writing its intent and promoting; the leader is frozen
 * there past its Lease; the leader is cut off from the API server. Another
 * replica takes over and finishes the work, and a deposed leader that wakes
 * changes nothing.
 */
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
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

async function setOperatorEnv(...assignments: string[]): Promise<void> {
  await kubectl([
    "-n",
    "redis-operator",
    "set",
    "env",
    "deployment/redis-operator",
    ...assignments,
  ]);
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

/** The sum of an operator replica's counter `name` over the series whose labels match `labels`. */
async function counter(pod: Pod, name: string, labels = /.*/): Promise<number> {
  const text = await (await fetch(`http://${pod.status!.podIP}:8080/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\d+)$`, "gm"))]
    .filter((match) => labels.test(match[1]!))
    .reduce((sum, match) => sum + Number(match[2]), 0);
}

/** Redis commands a replica did not send once it no longer led. */
const redisEffectsNotSent = (pod: Pod) =>
  counter(pod, "redis_operator_effects_not_sent_total", /kind="redis"/);
/** Failovers a replica carried out to the end (its promotion answered). */
const failoversDone = (pod: Pod) => counter(pod, "redis_operator_failovers_total");

Deno.test("the leading operator frozen between intent and promotion past its Lease sends nothing when it wakes", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  // The pass pauses 5 s after its intent; the frozen leader's renew deadline (8 s after its
  // last renewal) is due later. On waking both are overdue and the pause ends first: the pass
  // goes on, and only asking the Lease's clock before each effect keeps it from acting.
  // (Its connections were closed meanwhile by the next leader's reconfiguration, so what it
  // did send would fail; the count of effects not sent is what shows it did not try.)
  await setOperatorEnv(`${pauseVariable}=5000`, "LEASE_DURATION=10", "RENEW_DEADLINE=8");
  const ns = await testNamespace("frozen");
  let frozen: string | undefined;
  try {
    await waitFor("a leader with the pause", () => leaderPod(client));
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("frozen"));
    const before = await waitForReady(client, ns.name, "frozen", 3, 120_000);
    const holder = await leaseHolder(client);
    const leaderBefore = (await leaderPod(client))!;
    const leader = leaderBefore.metadata!.name!;
    const leaderNow = () =>
      client.request<Pod>({ path: `/api/v1/namespaces/redis-operator/pods/${leader}` });
    assert.equal(await redisEffectsNotSent(leaderBefore), 0);
    const failoversBefore = await failoversDone(leaderBefore);
    await fault("kill", ns.name, before.status!.master!);
    const intentSeenAt = await waitFor("the intent in the status", async () => {
      const now = await getRedis(client, ns.name, "frozen");
      return (now.status?.epoch ?? 0) > (before.status!.epoch ?? 0) ? Date.now() : undefined;
    }, 20_000);
    await fault("stop", "redis-operator", leader);
    frozen = leader;
    const frozenAt = Date.now();
    await waitFor("another leader", async () => {
      const now = await leaseHolder(client);
      return now && now !== holder ? true : undefined;
    }, 60_000);
    await fault("cont", "redis-operator", leader);
    frozen = undefined;
    const frozenS = ((Date.now() - frozenAt) / 1000).toFixed(1);
    const refused = await waitFor("the woken leader's refusals", async () => {
      const count = await redisEffectsNotSent(await leaderNow());
      return count > 0 ? count : undefined;
    }, 10_000).catch((error) => {
      throw new Error(
        `the woken leader counted no effect not sent (frozen ${
          frozenAt - intentSeenAt
        } ms after the intent was seen; a freeze after the 5 s pause tests nothing)`,
        { cause: error },
      );
    });
    // Frozen only after its pause, it would have promoted first: then this is no test.
    assert.equal(
      await failoversDone(await leaderNow()),
      failoversBefore,
      "the frozen leader had not promoted before it froze",
    );
    // Restarted by its liveness probe while frozen, it would have woken as a new process.
    assert.equal(
      (await leaderNow()).status?.containerStatuses?.[0]?.restartCount,
      leaderBefore.status?.containerStatuses?.[0]?.restartCount,
      "the frozen leader woke as the same process",
    );
    await waitForReady(client, ns.name, "frozen", 3, 120_000);
    await assertOneMasterEverywhere(client, ns.name, "frozen");
    console.log(
      `leader frozen ${frozenS} s, from ${
        frozenAt - intentSeenAt
      } ms after its intent was seen: the next leader finished; on waking it sent nothing (${refused} effects not sent)`,
    );
  } finally {
    if (frozen) await fault("cont", "redis-operator", frozen).catch(() => {});
    await ns.remove();
    await setOperatorEnv(`${pauseVariable}-`, "LEASE_DURATION-", "RENEW_DEADLINE-");
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
