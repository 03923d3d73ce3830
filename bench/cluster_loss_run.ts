/**
 * Acknowledged writes lost per kill -9 of the master on the local cluster,
 * under heavy pipelined load (issue 12): the loopback bench's writers
 * (bench/heavy_loss_bench.ts) aim at the master pod, the master's process is
 * killed through the cluster's fault CLI, the operator fails over as it does
 * for users, and every key acknowledged before the kill is looked up on the
 * master the status then names. Rounds alternate the baseline (a pipeline is
 * safe when the master answers) and `WAIT 1 100` after each pipeline.
 *
 * Runs inside a cluster's network namespace, started by
 * bench/cluster_loss_bench.ts; prints one JSON line per round and a summary,
 * and writes the samples to the file $BENCH_RESULTS names, if it names one.
 *
 * Usage: deno run -A bench/cluster_loss_run.ts ROUNDS
 *
 * @module
 */
import { Redis } from "ioredis";
import { clusterClient, fault, kubectl, testNamespace, waitFor } from "../tests/cluster/helpers.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "../tests/e2e/operator.ts";
import { batch, HeavyLoad, missing } from "./heavy_loss_bench.ts";
import { type Sample, summarize } from "./stats.ts";

const rounds = Number(Deno.args[0] ?? "10");
/** A planned handover under the same load: the master's pod deleted. */
const plannedMethod = "planned: master pod deleted";
/** What each round does to the master, in turn. */
const methods = ["baseline: pipelined SET", "WAIT 1 per pipeline", plannedMethod] as const;

/** FLUSHALL on the master (replicated to its replicas). */
async function flushMaster(ip: string): Promise<void> {
  const redis = new Redis({ host: ip, port: 6379, maxRetriesPerRequest: 1 });
  try {
    await redis.flushall();
  } finally {
    redis.disconnect();
  }
}
const client = await clusterClient();
await deployOperator(client);
const ns = await testNamespace("loss");
const name = "loss";
const lost: Sample[] = [];
const perSecond: Sample[] = [];
try {
  await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest(name));
  let ready = await waitForReady(client, ns.name, name);
  for (let n = 0; n < rounds * 3; n++) {
    const kind = methods[n % 3]!;
    const wait = kind === "WAIT 1 per pipeline";
    const method = kind;
    const master = ready.status!.master!;
    const load = new HeavyLoad(ready.status!.masterIP!, 6379, n, wait);
    await new Promise((r) => setTimeout(r, 1000 + Math.random() * 1000));
    const killedAt = performance.now();
    if (kind === plannedMethod) {
      // The preStop hook holds the process; the operator fences, hands over and parks it.
      await kubectl(["-n", ns.name, "delete", "pod", master, "--wait=false"]);
    } else {
      await fault("kill", ns.name, master);
    }
    await load.stop();
    await waitFor("a new master", async () => {
      const now = await getRedis(client, ns.name, name);
      return now.status?.master !== master ? now : undefined;
    }, 60_000);
    // A new pod for the killed one: its container would restart under a back-off that
    // doubles with each kill, and the next round needs all three.
    if (kind !== plannedMethod) {
      await kubectl(["-n", ns.name, "delete", "pod", master, "--wait=false"]);
    }
    ready = await waitForReady(client, ns.name, name, 3, 180_000);
    const missed = await missing(ready.status!.masterIP!, 6379, load.acked);
    const lastSecond = load.ackTimes.filter((t) => t > killedAt - 1000 && t <= killedAt).length *
      batch;
    // The next round starts from an empty data set: a restarted replica's full copy then
    // stays short instead of growing with every round.
    await flushMaster(ready.status!.masterIP!);
    lost.push({ method, value: missed });
    perSecond.push({ method, value: lastSecond });
    console.log(JSON.stringify({
      round: n,
      method,
      killed: master,
      promoted: ready.status!.master,
      acknowledged: load.acked.length,
      lost: missed,
      writesPerSecondBeforeKill: lastSecond,
    }));
  }
  console.log(
    summarize(
      "cluster: kill -9 (or deletion) of the master's pod under pipelined load: acknowledged writes lost",
      lost,
    ),
  );
  console.log(summarize("cluster: acknowledged writes per second before the kill", perSecond));
  // For bench/main.ts's report, when it asked.
  const results = Deno.env.get("BENCH_RESULTS");
  if (results) await Deno.writeTextFile(results, JSON.stringify({ lost, perSecond }));
} finally {
  await ns.remove();
  client.close();
}
