/**
 * Chaos, unplanned and silent: the master stops answering without closing its
 * connections (SIGSTOP) or is cut off the network. After the detection window
 * a replica takes over; when the old master comes back it is fenced (it
 * refuses writes without replicas) and then made a replica. Writes lost are
 * only those the old master acknowledged within the fencing bound before the
 * fault, and they are reported.
 */
import assert from "node:assert/strict";
import type { KubeClient } from "../../src/kube/client.ts";
import { clusterClient, fault, kubectl, testNamespace, waitFor } from "../cluster/helpers.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "../e2e/operator.ts";
import { FullSyncTracker } from "./full_syncs.ts";
import { assertOneMasterEverywhere, fencingBoundMs } from "./invariants.ts";
import { lostWrites, WriteLoad } from "./write_load.ts";

const detectionWindowMs = 2000;
/** The monitor's PING interval: silence counts from the last answer, up to this long before the fault. */
const pingIntervalMs = 500;

async function silentFault(
  client: KubeClient,
  kind: "stop" | "isolate",
): Promise<{ detectedMs: number; lost: number; acks: number; fullSyncs: number }> {
  const ns = await testNamespace(kind === "stop" ? "sigstop" : "isolate");
  const [cut, restore] = kind === "stop" ? ["stop", "cont"] : ["isolate", "heal"];
  try {
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest("quiet", { failover: { detectionWindowMs } }),
    );
    const before = await waitForReady(client, ns.name, "quiet");
    const load = new WriteLoad(client, ns.name, "redis-quiet-master");
    await load.start();
    const fullSyncs = new FullSyncTracker(client, ns.name, "quiet");
    await fullSyncs.start();
    await new Promise((r) => setTimeout(r, 1000));
    const faultAt = Date.now();
    await fault(cut!, ns.name, before.status!.master!);
    const detectedAt = await waitFor("a new master", async () => {
      const now = await getRedis(client, ns.name, "quiet");
      return now.status?.master !== before.status!.master ? Date.now() : undefined;
    }, 30_000);
    // Keep the old master away past the fencing bound, then bring it back.
    await new Promise((r) =>
      setTimeout(r, Math.max(0, faultAt + fencingBoundMs + 1000 - Date.now()))
    );
    await fault(restore!, ns.name, before.status!.master!);
    const after = await waitForReady(client, ns.name, "quiet", 3, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    await assertOneMasterEverywhere(client, ns.name, "quiet");
    const report = await load.stop();
    // The old master may need one full copy: alone, it may have moved its offset past
    // the point where its replica took over, so their histories differ.
    const syncs = await fullSyncs.assertNoNeedlessFullSync(1);
    const lost = await lostWrites(after.status!.masterIP!, report.acks);
    const bySeq = new Map(report.acks.map((a) => [a.seq, a]));
    for (const seq of lost) {
      const ack = bySeq.get(seq)!;
      assert.equal(ack.ip, before.status!.masterIP, `write ${seq} lost on ${ack.ip}`);
      assert.ok(
        ack.at >= faultAt - fencingBoundMs && ack.at <= faultAt + fencingBoundMs,
        `write ${seq} lost outside the fencing bound`,
      );
    }
    return {
      detectedMs: detectedAt - faultAt,
      lost: lost.length,
      acks: report.acks.length,
      fullSyncs: syncs.fullSyncs,
    };
  } finally {
    await ns.remove();
  }
}

Deno.test("unplanned: a master stopped (SIGSTOP) longer than the detection window is replaced, then fenced and reattached", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  try {
    const result = await silentFault(client, "stop");
    assert.ok(
      result.detectedMs >= detectionWindowMs - pingIntervalMs,
      `replaced after ${result.detectedMs} ms: not before the window`,
    );
    console.log(
      `SIGSTOP: replaced after ${result.detectedMs} ms (window ${detectionWindowMs} ms); ${result.lost} of ${result.acks} acknowledged writes lost; ${result.fullSyncs} full resyncs`,
    );
  } finally {
    client.close();
  }
});

Deno.test("unplanned: an isolated master is replaced after the detection window and rejoins as a replica when healed", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  try {
    const result = await silentFault(client, "isolate");
    assert.ok(
      result.detectedMs >= detectionWindowMs - pingIntervalMs,
      `replaced after ${result.detectedMs} ms: not before the window`,
    );
    console.log(
      `isolation: replaced after ${result.detectedMs} ms (window ${detectionWindowMs} ms); ${result.lost} of ${result.acks} acknowledged writes lost; ${result.fullSyncs} full resyncs`,
    );
  } finally {
    client.close();
  }
});

Deno.test("all pods but one lost at once under load, persistence off: the data lives on", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("allbutone");
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("last"));
    const before = await waitForReady(client, ns.name, "last");
    const load = new WriteLoad(client, ns.name, "redis-last-master");
    await load.start();
    const fullSyncs = new FullSyncTracker(client, ns.name, "last");
    await fullSyncs.start();
    await new Promise((r) => setTimeout(r, 1000));
    const pods = (await kubectl([
      "-n",
      ns.name,
      "get",
      "pods",
      "-l",
      "redis=last",
      "-o",
      "jsonpath={.items[*].metadata.name}",
    ])).split(" ");
    const survivor = pods.find((p) => p !== before.status!.master)!;
    const lostAt = Date.now();
    // A replica's process is killed outright, then its pod and the master's are deleted
    // together. (Killed after the delete, it could already be gone: a replica's preStop
    // hook lets it go at once.)
    const doomedReplica = pods.find((p) => p !== survivor && p !== before.status!.master)!;
    await fault("kill", ns.name, doomedReplica);
    await kubectl([
      "-n",
      ns.name,
      "delete",
      "pod",
      before.status!.master!,
      doomedReplica,
      "--wait=false",
    ]);
    await waitFor(
      "the survivor to lead",
      async () =>
        (await getRedis(client, ns.name, "last")).status?.master === survivor ? true : undefined,
      60_000,
    );
    const after = await waitForReady(client, ns.name, "last", 3, 120_000);
    const report = await load.stop();
    const syncs = await fullSyncs.assertNoNeedlessFullSync();
    await assertOneMasterEverywhere(client, ns.name, "last");
    const lost = await lostWrites(after.status!.masterIP!, report.acks);
    for (const seq of lost) {
      const ack = report.acks.find((a) => a.seq === seq)!;
      assert.ok(
        Math.abs(ack.at - lostAt) <= fencingBoundMs,
        `write ${seq} lost outside the fencing bound`,
      );
    }
    assert.ok(report.acks.length - lost.length > 0);
    console.log(
      `all pods but one lost: ${lost.length} of ${report.acks.length} acknowledged writes lost; the survivor ${survivor} leads; ${syncs.fullSyncs} full resyncs for ${syncs.newProcesses} new processes`,
    );
  } finally {
    await ns.remove();
    client.close();
  }
});
