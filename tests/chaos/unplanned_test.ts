/**
 * Chaos, unplanned and silent: the master stops answering without closing its
 * connections (SIGSTOP) or is cut off the network. After the detection window
 * a replica takes over; when the old master comes back it is fenced (it
 * refuses writes without replicas) and then made a replica. Writes lost are
 * only those the old master acknowledged within the fencing bound before the
 * fault, and they are reported.
 */
import assert from "node:assert/strict";
import { fault, kubectl, waitFor } from "../cluster/helpers.ts";
import { withReadyRedis } from "../e2e/fixture.ts";
import { getRedis, waitForReady } from "../e2e/operator.ts";
import { assertOneMasterEverywhere, fencingBoundMs } from "./invariants.ts";
import { startLoad } from "./under_load.ts";
import { lostWrites } from "./write_load.ts";

const detectionWindowMs = 2000;
/** The monitor's PING interval: silence counts from the last answer, up to this long before the fault. */
const pingIntervalMs = 500;

interface SilentFaultResult {
  detectedMs: number;
  lost: number;
  acks: number;
  fullSyncs: number;
}

async function silentFault(kind: "stop" | "isolate"): Promise<SilentFaultResult> {
  const [cut, restore] = kind === "stop" ? ["stop", "cont"] : ["isolate", "heal"];
  let result: SilentFaultResult | undefined;
  await withReadyRedis(kind === "stop" ? "sigstop" : "isolate", "quiet", async (redis) => {
    const { client, namespace, ready: before } = redis;
    const { load, fullSyncs } = await startLoad(client, namespace, "quiet");
    await new Promise((r) => setTimeout(r, 1000));
    const faultAt = Date.now();
    await fault(cut!, namespace, before.status!.master!);
    const detectedAt = await waitFor("a new master", async () => {
      const now = await getRedis(client, namespace, "quiet");
      return now.status?.master !== before.status!.master ? Date.now() : undefined;
    }, 30_000);
    // Keep the old master away past the fencing bound, then bring it back.
    await new Promise((r) =>
      setTimeout(r, Math.max(0, faultAt + fencingBoundMs + 1000 - Date.now()))
    );
    await fault(restore!, namespace, before.status!.master!);
    const after = await waitForReady(client, namespace, "quiet", 3, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    await assertOneMasterEverywhere(client, namespace, "quiet");
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
    result = {
      detectedMs: detectedAt - faultAt,
      lost: lost.length,
      acks: report.acks.length,
      fullSyncs: syncs.fullSyncs,
    };
  }, { spec: { failover: { detectionWindowMs } } });
  return result!;
}

Deno.test("unplanned: a master stopped (SIGSTOP) longer than the detection window is replaced, then fenced and reattached", async () => {
  const result = await silentFault("stop");
  assert.ok(
    result.detectedMs >= detectionWindowMs - pingIntervalMs,
    `replaced after ${result.detectedMs} ms: not before the window`,
  );
  console.log(
    `SIGSTOP: replaced after ${result.detectedMs} ms (window ${detectionWindowMs} ms); ${result.lost} of ${result.acks} acknowledged writes lost; ${result.fullSyncs} full resyncs`,
  );
});

Deno.test("unplanned: an isolated master is replaced after the detection window and rejoins as a replica when healed", async () => {
  const result = await silentFault("isolate");
  assert.ok(
    result.detectedMs >= detectionWindowMs - pingIntervalMs,
    `replaced after ${result.detectedMs} ms: not before the window`,
  );
  console.log(
    `isolation: replaced after ${result.detectedMs} ms (window ${detectionWindowMs} ms); ${result.lost} of ${result.acks} acknowledged writes lost; ${result.fullSyncs} full resyncs`,
  );
});

Deno.test("all pods but one lost at once under load, persistence off: the data lives on", () =>
  withReadyRedis("allbutone", "last", async ({ client, namespace, ready: before }) => {
    const { load, fullSyncs } = await startLoad(client, namespace, "last");
    await new Promise((r) => setTimeout(r, 1000));
    const pods = (await kubectl([
      "-n",
      namespace,
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
    await fault("kill", namespace, doomedReplica);
    await kubectl([
      "-n",
      namespace,
      "delete",
      "pod",
      before.status!.master!,
      doomedReplica,
      "--wait=false",
    ]);
    await waitFor(
      "the survivor to lead",
      async () =>
        (await getRedis(client, namespace, "last")).status?.master === survivor ? true : undefined,
      60_000,
    );
    const after = await waitForReady(client, namespace, "last", 3, 120_000);
    const report = await load.stop();
    const syncs = await fullSyncs.assertNoNeedlessFullSync();
    await assertOneMasterEverywhere(client, namespace, "last");
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
  }));
