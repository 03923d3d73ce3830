/**
 * Scale (issue 14): N Redis resources at once under one operator, for each N
 * given, on a local cluster. Per N:
 *
 * - the time from applying N Redis until all are Ready;
 * - the leading operator's resident memory and CPU, idle (a 30 s window) and
 *   while all N masters are killed at once;
 * - API requests per minute in the idle window, writes apart (none expected
 *   but the Lease's);
 * - N simultaneous kill -9s, one master each: the time until every Redis has
 *   a new master that takes a write;
 * - the operator's start-up: both operator pods deleted, the time until the
 *   new leader's controller started and until its passes covered all N.
 *
 * Runs inside the cluster's namespace (bench/scale_bench.ts starts it);
 * writes its results as JSON to $BENCH_RESULTS and prints them.
 *
 * Usage: deno run -A bench/scale_run.ts N [N...]
 *
 * @module
 */
import { Redis } from "ioredis";
import type { Event as CoreEvent, Pod } from "kubernetes-types/core/v1.d.ts";
import { recordedNodes } from "../cluster/lib/layout.ts";
import { newestPodRecord } from "../cluster/node_agent/pod_record.ts";
import type { Redis as RedisResource } from "../src/api/redis.ts";
import {
  clusterClient,
  kubectl,
  layout,
  testNamespace,
  waitFor,
} from "../tests/cluster/helpers.ts";
import { deployOperator, leaderPod, redisManifest, scrapeMetrics } from "../tests/e2e/operator.ts";

/** What one N measured. */
export interface ScaleResult {
  readonly n: number;
  readonly readyAllSeconds: number;
  readonly idleRssMb: number;
  readonly idleCpuPercent: number;
  readonly churnRssMb: number;
  /** V8's heap in use on the leader after the idle window (from its metrics). */
  readonly idleHeapUsedMb: number;
  readonly churnCpuPercent: number;
  readonly readsPerMinute: number;
  readonly writesPerMinute: number;
  /** Writes in the idle window by `method resource`, the Lease's included. */
  readonly idleWrites: Record<string, number>;
  /** The last Redis's time to a writable master; then the median's and the 90th percentile's. */
  readonly killAllRecoveredSeconds: number;
  readonly killAllMedianSeconds: number;
  readonly killAllP90Seconds: number;
  /** The operator's own log: when it promoted, median and last. */
  readonly killAllPromotedMedianSeconds: number;
  readonly killAllPromotedLastSeconds: number;
  readonly killOneRecoveredSeconds: number;
  readonly apiRequestsPerFailover: number;
  readonly startupToControllerSeconds: number;
  readonly startupToAllReconciledSeconds: number;
}

const client = await clusterClient();
await deployOperator(client);
const levels = Deno.args.map(Number).filter((n) => n > 0);
const results: ScaleResult[] = [];

/** The leader's main process: from the node agent's record of its pod. */
async function operatorPid(pod: Pod): Promise<number> {
  const found = await newestPodRecord(
    recordedNodes(layout).map((n) => n.podsDir),
    "redis-operator",
    pod.metadata!.name!,
  );
  const pid = Object.values(found?.record.containers ?? {})[0];
  if (!pid) throw new Error(`no process recorded for ${pod.metadata?.name}`);
  return pid;
}

/** Resident memory (MB) and CPU seconds so far of a process. */
async function usage(pid: number): Promise<{ rssMb: number; cpuSeconds: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const rssKb = Number(status.match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0);
  const stat = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of stat, 11 and 12 after "pid (comm) ".
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { rssMb: rssKb / 1024, cpuSeconds: ticks / 100 };
}

/** Peak RSS and mean CPU of `pid` while `work` runs. */
async function sampled<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ result: T; peakRssMb: number; cpuPercent: number }> {
  const start = await usage(pid);
  const started = performance.now();
  let peak = start.rssMb;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, (await usage(pid).catch(() => start)).rssMb);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const result = await work();
  running = false;
  await sampler;
  const end = await usage(pid);
  const seconds = (performance.now() - started) / 1000;
  return {
    result,
    peakRssMb: Math.max(peak, end.rssMb),
    cpuPercent: (end.cpuSeconds - start.cpuSeconds) / seconds * 100,
  };
}

/** Every Redis of the namespace, listed. */
async function listRedis(namespace: string): Promise<RedisResource[]> {
  return (await client.request<{ items: RedisResource[] }>({
    path: `/apis/redis-operator.dev/v1alpha1/namespaces/${namespace}/redis`,
  })).items;
}

const isReady = (r: RedisResource) =>
  r.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** Kills every named master at once (SIGKILL to each pod's processes, from the agents' records). */
async function killAll(namespace: string, pods: readonly string[]): Promise<void> {
  const dirs = recordedNodes(layout).map((n) => n.podsDir);
  const records = await Promise.all(pods.map((p) => newestPodRecord(dirs, namespace, p)));
  for (const found of records) {
    for (const pid of Object.values(found?.record.containers ?? {})) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
  }
}

/** Whether `host`'s Redis takes a write now. */
async function takesWrite(host: string): Promise<boolean> {
  const redis = new Redis({
    host,
    lazyConnect: true,
    connectTimeout: 500,
    commandTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return await redis.set("scale:probe", "1") === "OK";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/**
 * Seconds from `from` until each Redis of `before` has a master other than
 * its old one that takes a write. Every Redis not yet done is probed at once
 * in each round, so one slow Redis does not delay seeing the others.
 */
async function recovered(
  namespace: string,
  before: ReadonlyMap<string, string>,
  from: number,
): Promise<number[]> {
  const done = new Map<string, number>();
  await waitFor("every Redis with a new, writable master", async () => {
    const pending = (await listRedis(namespace)).filter((r) => {
      const name = r.metadata!.name!;
      const master = r.status?.master;
      return before.has(name) && !done.has(name) && master && master !== before.get(name) &&
        r.status?.masterIP;
    });
    await Promise.all(pending.map(async (r) => {
      if (await takesWrite(r.status!.masterIP!)) {
        done.set(r.metadata!.name!, (Date.now() - from) / 1000);
      }
    }));
    return done.size === before.size ? true : undefined;
  }, 600_000);
  return [...done.values()].sort((a, b) => a - b);
}

/**
 * Seconds from `from` to each "master changed" any operator pod logged in
 * `namespace`, and the pods that logged them (the leader may change).
 */
async function promotions(
  namespace: string,
  from: number,
): Promise<{ seconds: number[]; by: string[] }> {
  const pods = (await client.request<{ items: Pod[] }>({
    path: "/api/v1/namespaces/redis-operator/pods",
  })).items.map((p) => p.metadata!.name!);
  const seconds: number[] = [];
  const by = new Set<string>();
  for (const pod of pods) {
    const logs = await kubectl(["-n", "redis-operator", "logs", pod]).catch(() => "");
    for (const line of logs.split("\n")) {
      if (!line.includes('"master changed"')) continue;
      const entry = JSON.parse(line);
      const at = (Date.parse(entry["@timestamp"]) - from) / 1000;
      if (entry.properties?.namespace !== namespace || at < 0) continue;
      seconds.push(at);
      by.add(pod);
    }
  }
  return { seconds: seconds.sort((a, b) => a - b), by: [...by] };
}

/** Where the operator pods' logs of each size are kept: the cluster goes down after the run. */
const artifacts = "/tmp/redis-operator-artifacts";

/**
 * Copies every operator pod's log to `artifacts`, for reading after the run,
 * with the log of a container that ended before (`.previous.log`) and how it
 * ended: a restarted operator (OOM-killed, failed liveness probe) says why.
 */
async function keepOperatorLogs(n: number, since: number): Promise<void> {
  await Deno.mkdir(artifacts, { recursive: true });
  const pods = (await client.request<{ items: Pod[] }>({
    path: "/api/v1/namespaces/redis-operator/pods",
  })).items;
  for (const pod of pods) {
    const name = pod.metadata!.name!;
    const logs = await kubectl(["-n", "redis-operator", "logs", name]).catch(() => "");
    await Deno.writeTextFile(`${artifacts}/scale-${n}-${name}.log`, logs);
    for (const container of pod.status?.containerStatuses ?? []) {
      const ended = container.lastState?.terminated;
      if (!ended) continue;
      console.log(
        `N=${n}: operator pod ${name} restarted ${container.restartCount} times; the last ended: ${
          JSON.stringify(ended)
        }`,
      );
      const previous = await kubectl(["-n", "redis-operator", "logs", name, "--previous"])
        .catch(() => "");
      await Deno.writeTextFile(`${artifacts}/scale-${n}-${name}.previous.log`, previous);
    }
  }
  // The node agent records why it restarted a container (a failed liveness probe) as
  // Events: the newest ten of this size. Best effort: a completed size must not fail here.
  try {
    const when = (e: CoreEvent) => Date.parse(e.lastTimestamp ?? e.eventTime ?? "") || 0;
    const events = (await client.request<{ items: CoreEvent[] }>({
      path: "/api/v1/namespaces/redis-operator/events",
    })).items.filter((e) => e.type === "Warning" && when(e) >= since)
      .sort((a, b) => when(a) - when(b));
    for (const e of events.slice(-10)) {
      console.log(
        `N=${n}: event ${e.reason} ×${e.count ?? 1} on ${e.involvedObject.name}: ${e.message}`,
      );
    }
  } catch (error) {
    console.log(`N=${n}: the operator's events could not be read: ${error}`);
  }
  console.log(`N=${n}: operator logs kept in ${artifacts}/scale-${n}-*.log`);
}

/** The value below which `fraction` of the sorted `values` lie. */
const quantile = (values: readonly number[], fraction: number) =>
  values[Math.min(values.length - 1, Math.floor(fraction * values.length))] ?? NaN;

/** Requests per method and resource from an operator's metrics. */
function requests(metrics: Map<string, number>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [key, value] of metrics) {
    const match = key.match(/^redis_operator_api_requests_total\{(.*)\}$/);
    if (!match) continue;
    const method = match[1]!.match(/method="([^"]+)"/)?.[1] ?? "?";
    const resource = match[1]!.match(/resource="([^"]+)"/)?.[1] ?? "?";
    counts.set(`${method} ${resource}`, value);
  }
  return counts;
}

function difference(a: Map<string, number>, b: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of b) {
    const d = value - (a.get(key) ?? 0);
    if (d) out[key] = d;
  }
  return out;
}

const sum = (record: Record<string, number>, writes: boolean) =>
  Object.entries(record).filter(([k]) => (k.startsWith("GET") || k.startsWith("LIST")) !== writes)
    .reduce((total, [, v]) => total + v, 0);

const out = Deno.env.get("BENCH_RESULTS");
for (const n of levels) {
  const ns = await testNamespace(`scale${n}`);
  const sizeStarted = Date.now();
  try {
    const names = Array.from({ length: n }, (_, i) => `s${i}`);
    const applied = Date.now();
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: names.map((name) => JSON.parse(redisManifest(name))),
      }),
    );
    await waitFor(`${n} Redis Ready`, async () => {
      const all = await listRedis(ns.name);
      return all.length === n && all.every(isReady) ? true : undefined;
    }, 1_800_000);
    const readyAllSeconds = (Date.now() - applied) / 1000;
    console.log(`N=${n}: all Ready after ${readyAllSeconds.toFixed(1)} s`);

    // Idle: a 30 s window.
    const leader = (await leaderPod(client))!;
    const pid = await operatorPid(leader);
    await new Promise((r) => setTimeout(r, 10_000));
    const before = requests(await scrapeMetrics(leader));
    const idle = await sampled(pid, () => new Promise((r) => setTimeout(r, 30_000)));
    const afterIdle = await scrapeMetrics(leader);
    const idleDiff = difference(before, requests(afterIdle));
    const heapUsedMb = (afterIdle.get('redis_operator_memory_bytes{kind="heap_used"}') ?? NaN) /
      2 ** 20;
    const perMinute = (count: number) => count * 2; // a 30 s window

    // One kill, then N at once.
    const masters = new Map((await listRedis(ns.name)).map((r) => [
      r.metadata!.name!,
      r.status!.master!,
    ]));
    const one = new Map([[names[0]!, masters.get(names[0]!)!]]);
    let from = Date.now();
    await killAll(ns.name, [one.get(names[0]!)!]);
    const killOneRecoveredSeconds = (await recovered(ns.name, one, from))[0]!;
    await waitFor("all Ready again", async () => {
      const all = await listRedis(ns.name);
      return all.every(isReady) ? true : undefined;
    }, 600_000);
    const current = new Map((await listRedis(ns.name)).map((r) => [
      r.metadata!.name!,
      r.status!.master!,
    ]));
    const beforeKills = requests(await scrapeMetrics(leader));
    from = Date.now();
    const churn = await sampled(pid, async () => {
      await killAll(ns.name, [...current.values()]);
      return await recovered(ns.name, current, from);
    });
    const killDiff = difference(beforeKills, requests(await scrapeMetrics(leader)));
    const writable = churn.result;
    const logged = await promotions(ns.name, from);
    await keepOperatorLogs(n, sizeStarted);
    const promoted = logged.seconds;
    const leaderAfter = (await leaderPod(client))?.metadata?.name;
    if (leaderAfter !== leader.metadata?.name || logged.by.length > 1) {
      console.log(
        `N=${n}: the leader changed during the kills: ${leader.metadata?.name} -> ${leaderAfter}; promotions logged by ${logged.by}`,
      );
    }
    console.log(
      `N=${n}: every master killed at once, writable again after ${
        quantile(writable, 0.5).toFixed(2)
      } s (median), ${writable.at(-1)!.toFixed(2)} s (last); promoted by ${
        quantile(promoted, 0.5).toFixed(2)
      } s (median), ${promoted.at(-1)?.toFixed(2)} s (last of ${promoted.length})`,
    );
    await waitFor("all Ready after the kills", async () => {
      const all = await listRedis(ns.name);
      return all.every(isReady) ? true : undefined;
    }, 900_000);

    // Start-up: both operator pods deleted at once.
    const deleted = Date.now();
    await kubectl(["-n", "redis-operator", "delete", "pods", "--all", "--wait=false"]);
    const newLeader = await waitFor("a new leader", async () => {
      // A pod made after the deletion: a deleted one may still lead while it terminates.
      const pod = await leaderPod(client);
      const created = Date.parse(pod?.metadata?.creationTimestamp ?? "") || 0;
      return pod && created >= deleted - 1000 && pod.status?.podIP ? pod : undefined;
    }, 300_000);
    const controllerAt = await waitFor("the new leader's controller started", async () => {
      const logs = await kubectl(["-n", "redis-operator", "logs", newLeader.metadata!.name!]);
      const line = logs.split("\n").find((l) => l.includes('"controller started"'));
      return line ? Date.parse(JSON.parse(line)["@timestamp"]) : undefined;
    }, 300_000);
    const reconciledAt = await waitFor("a pass for every Redis", async () => {
      const m = await scrapeMetrics(newLeader).catch(() => new Map<string, number>());
      return (m.get('redis_operator_reconciles_total{result="success"}') ?? 0) >= n
        ? Date.now()
        : undefined;
    }, 300_000);

    const result: ScaleResult = {
      n,
      readyAllSeconds,
      idleRssMb: Math.round(idle.peakRssMb),
      idleCpuPercent: Number(idle.cpuPercent.toFixed(1)),
      churnRssMb: Math.round(churn.peakRssMb),
      idleHeapUsedMb: Math.round(heapUsedMb),
      churnCpuPercent: Number(churn.cpuPercent.toFixed(1)),
      readsPerMinute: perMinute(sum(idleDiff, false)),
      writesPerMinute: perMinute(sum(idleDiff, true)),
      idleWrites: Object.fromEntries(
        Object.entries(idleDiff).filter(([k]) => !k.startsWith("GET") && !k.startsWith("LIST")),
      ),
      killAllRecoveredSeconds: Number(writable.at(-1)!.toFixed(2)),
      killAllMedianSeconds: Number(quantile(writable, 0.5).toFixed(2)),
      killAllP90Seconds: Number(quantile(writable, 0.9).toFixed(2)),
      killAllPromotedMedianSeconds: Number(quantile(promoted, 0.5).toFixed(2)),
      killAllPromotedLastSeconds: Number((promoted.at(-1) ?? NaN).toFixed(2)),
      killOneRecoveredSeconds: Number(killOneRecoveredSeconds.toFixed(2)),
      apiRequestsPerFailover: Math.round(sum(killDiff, true) / n + sum(killDiff, false) / n),
      startupToControllerSeconds: Number(((controllerAt - deleted) / 1000).toFixed(1)),
      startupToAllReconciledSeconds: Number(((reconciledAt - deleted) / 1000).toFixed(1)),
    };
    console.log(JSON.stringify(result));
    results.push(result);
    // Written after every size: what completed survives a failure at a larger one.
    if (out) await Deno.writeTextFile(out, JSON.stringify(results));
  } catch (error) {
    console.log(`N=${n}: stopped: ${error instanceof Error ? error.message : error}`);
    await keepOperatorLogs(n, sizeStarted).catch(() => {});
    Deno.exitCode = 1;
    break;
  } finally {
    await ns.remove();
  }
}
client.close();
