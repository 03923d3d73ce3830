/**
 * Chaos, unplanned and silent: the master stops answering without closing its
 * connections (SIGSTOP) or is cut off the network. After the detection window
 * a replica takes over; when the old master comes back it is fenced (it
 * refuses writes without replicas) and then made a replica. Writes lost are
 * only those the old master acknowledged within the fencing bound before the
 * fault, and they are reported.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { KubeClient } from "../../src/kube/client.ts";
import { clusterClient, fault, kubectl, testNamespace, waitFor } from "../cluster/helpers.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "../e2e/operator.ts";
import { lostWrites, WriteLoad } from "./write_load.ts";

const detectionWindowMs = 2000;
/** The monitor's PING interval: silence counts from the last answer, up to this long before the fault. */
const pingIntervalMs = 500;
/** min-replicas-max-lag (2 s) plus the replicas' once-a-second acknowledgement. */
const fencingBoundMs = 3000;

/** Which pod addresses accept a write right now. */
async function writableInstances(namespace: string, selector: string): Promise<string[]> {
  const ips = (await kubectl([
    "-n",
    namespace,
    "get",
    "pods",
    "-l",
    selector,
    "-o",
    "jsonpath={.items[*].status.podIP}",
  ]))
    .split(" ").filter(Boolean);
  const writable: string[] = [];
  for (const ip of ips) {
    const redis = new Redis({
      host: ip,
      port: 6379,
      lazyConnect: true,
      connectTimeout: 500,
      commandTimeout: 500,
      maxRetriesPerRequest: 0,
    });
    redis.on("error", () => {});
    try {
      await redis.connect();
      await redis.set("probe:writable", "1");
      writable.push(ip);
    } catch {
      /* READONLY, NOREPLICAS or unreachable */
    } finally {
      redis.disconnect();
    }
  }
  return writable;
}

async function silentFault(
  client: KubeClient,
  kind: "stop" | "isolate",
): Promise<{ detectedMs: number; lost: number; acks: number }> {
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
    assert.deepEqual(
      await writableInstances(ns.name, "redis=quiet"),
      [after.status!.masterIP],
      "one writable master",
    );
    const report = await load.stop();
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
    return { detectedMs: detectedAt - faultAt, lost: lost.length, acks: report.acks.length };
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
      `SIGSTOP: replaced after ${result.detectedMs} ms (window ${detectionWindowMs} ms); ${result.lost} of ${result.acks} acknowledged writes lost`,
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
      `isolation: replaced after ${result.detectedMs} ms (window ${detectionWindowMs} ms); ${result.lost} of ${result.acks} acknowledged writes lost`,
    );
  } finally {
    client.close();
  }
});
