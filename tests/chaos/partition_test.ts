/**
 * Asymmetric partitions (issue 12), with concurrent clients recorded through
 * the master Service and checked by Porcupine.
 *
 * - The master cut from the operator only: its replicas still hear it, so it
 *   is not failed over, and clients go on writing to it.
 * - The master cut from its replicas only: it must stop acknowledging writes
 *   within the fencing bound, whatever the operator does about it.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { KubeClient } from "../../src/kube/client.ts";
import {
  clusterClient,
  cutPod,
  fault,
  kubectl,
  testNamespace,
  waitFor,
} from "../cluster/helpers.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "../e2e/operator.ts";
import { startAppPod, writerPaths } from "./app_writers.ts";
import { FullSyncTracker } from "./full_syncs.ts";
import {
  appendFinalReads,
  checkHistory,
  historyKeys,
  HistoryRecorder,
} from "./history_recorder.ts";
import { assertOneMasterEverywhere, fencingBoundMs, podIPs } from "./invariants.ts";

const detectionWindowMs = 2000;
const clients = 6;
const keys = 5;

/**
 * Writes to one instance directly every 50 ms and remembers when it last
 * acknowledged: how long a cut-off master goes on taking writes.
 */
class AckProbe {
  /** When each write was acknowledged. */
  readonly acks: number[] = [];
  readonly #redis: Redis;
  readonly #stop = new AbortController();
  readonly #running: Promise<void>;

  constructor(ip: string) {
    this.#redis = new Redis({
      host: ip,
      port: 6379,
      connectTimeout: 300,
      commandTimeout: 300,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    });
    this.#redis.on("error", () => {});
    this.#running = this.#run();
  }

  async #run(): Promise<void> {
    for (let n = 0; !this.#stop.signal.aborted; n++) {
      try {
        await this.#redis.set("probe:acks", String(n));
        this.acks.push(Date.now());
      } catch { /* refused (fenced, READONLY) or no answer */ }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    this.#redis.disconnect();
  }
}

interface CutResult {
  readonly masterChanged: boolean;
  readonly verdict: string;
  readonly operations: number;
  readonly okDuringCut: number;
  readonly lastAckAfterCutMs: number;
  readonly writableAfterHealMs: number;
  readonly html?: string;
}

async function cutMaster(
  client: KubeClient,
  from: "operator" | "replicas",
  holdMs: number,
): Promise<CutResult> {
  const ns = await testNamespace(from === "operator" ? "cutop" : "cutrep");
  const n = ns.name;
  const file = await Deno.makeTempFile({ prefix: "history-", suffix: ".jsonl" });
  try {
    await kubectl(
      ["-n", n, "apply", "-f", "-"],
      redisManifest("asym", { failover: { detectionWindowMs } }),
    );
    const before = await waitForReady(client, n, "asym");
    const master = before.status!.master!;
    const app = await startAppPod(client, n, "app");
    const tool = (await writerPaths()).HISTORY_TOOL!;
    const recorder = new HistoryRecorder(tool, app, "redis-asym-master:6379", file, {
      clients,
      keys,
    });
    const fullSyncs = new FullSyncTracker(client, n, "asym");
    await fullSyncs.start();
    const probe = new AckProbe(before.status!.masterIP!);
    await new Promise((r) => setTimeout(r, 1500));
    const peers = from === "operator"
      ? await podIPs("redis-operator", "app.kubernetes.io/name=redis-operator")
      : (await podIPs(n, "redis=asym")).filter((ip) => ip !== before.status!.masterIP);
    assert.ok(peers.length >= 2, `peers to cut from: ${peers.join(", ")}`);
    const cutAt = await cutPod(n, master, peers);
    let masterChanged = false;
    const watching = (async () => {
      while (Date.now() < cutAt + holdMs) {
        const now = await getRedis(client, n, "asym");
        if (now.status?.master && now.status.master !== master) masterChanged = true;
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    await watching;
    await fault("heal", n, master);
    const healedAt = Date.now();
    // A master fenced by the cut takes writes again once its replicas' acknowledgements
    // arrive: TCP retransmits them on its own backoff after the heal.
    const writableAt = masterChanged ? healedAt : await waitFor(
      "the master to take writes again after the heal",
      () => Promise.resolve(probe.acks.find((at) => at >= healedAt)),
      30_000,
    );
    await probe.stop();
    const lastAck = Math.max(0, ...probe.acks.filter((at) => at < healedAt));
    const after = await waitForReady(client, n, "asym", 3, 90_000);
    await assertOneMasterEverywhere(client, n, "asym");
    const ops = await recorder.stop();
    // A master that kept its role needs no full copy; one replaced may need one.
    await fullSyncs.assertNoNeedlessFullSync(masterChanged ? 1 : 0);
    await appendFinalReads(file, after.status!.masterIP!, historyKeys(ops), clients);
    const verdict = await checkHistory(tool, file, `partition-${from}-${n}`);
    const okDuringCut = ops.filter((o) =>
      o.result === "ok" && o.kind !== "read" && o.done / 1e6 > cutAt &&
      o.done / 1e6 < healedAt
    ).length;
    return {
      masterChanged,
      verdict: verdict.result,
      operations: verdict.operations,
      okDuringCut,
      lastAckAfterCutMs: lastAck - cutAt,
      writableAfterHealMs: writableAt - healedAt,
      ...(verdict.html ? { html: verdict.html } : {}),
    };
  } finally {
    await Deno.remove(file).catch(() => {});
    await ns.remove();
  }
}

Deno.test("partition: the master cut from the operator only stays master; its replicas still hear it", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  try {
    const result = await cutMaster(client, "operator", 4 * detectionWindowMs);
    console.log(`master cut from the operator: ${JSON.stringify(result)}`);
    assert.equal(result.masterChanged, false, "a master its replicas hear is not failed over");
    assert.ok(result.okDuringCut > 100, "clients went on writing to it during the cut");
    assert.equal(result.verdict, "Ok", `not linearizable: see ${result.html}`);
  } finally {
    client.close();
  }
});

Deno.test("partition: the master cut from its replicas only stops taking writes within the fencing bound", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  try {
    const result = await cutMaster(client, "replicas", fencingBoundMs + 4000);
    console.log(`master cut from its replicas: ${JSON.stringify(result)}`);
    assert.ok(
      result.lastAckAfterCutMs <= fencingBoundMs,
      `the cut-off master acknowledged a write ${result.lastAckAfterCutMs} ms after the cut`,
    );
  } finally {
    client.close();
  }
});
