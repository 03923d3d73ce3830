/**
 * Sentinel clients, unmodified (issue 10): redis-py, ioredis, go-redis and Jedis in
 * their Sentinel modes, configured as their own documentation shows, write
 * from inside a pod while the master is handed over (SENTINEL FAILOVER) and
 * then killed with SIGKILL. Three setups in one run, one after the other so
 * each has the machine to itself:
 *
 * - the operator's Sentinel endpoint (Service redis-operator-sentinel),
 * - the same Redis through its master Service (no Sentinel),
 * - real redis-sentinel, three of them, with down-after-milliseconds 5000 and
 *   then 1000, over three plain Redis pods.
 *
 * The cases, for each: SENTINEL FAILOVER (planned), isolation of the master
 * for 12 s, kill -9 of the master.
 *
 * Asserted: `redis-cli -p 26379 SENTINEL get-master-addr-by-name` works from a
 * pod; every writer writes again after every fault; no acknowledged write is
 * lost in the operator's planned handover. Printed, never asserted: each
 * library's longest time without a write, its errors and its lost writes.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { clusterClient, fault, kubectl, testNamespace, waitFor } from "../cluster/helpers.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "../e2e/operator.ts";
import {
  errorCounts,
  errorSamples,
  renderTable,
  reportWindow,
  type WriteEvent,
} from "../clients/client_report.ts";
import { lostWrites } from "./write_load.ts";
import {
  type AppPod,
  type AppWriter,
  startAppPod,
  startWriters,
  waitUntilWriting,
  writerPaths,
  type WriterTarget,
} from "./app_writers.ts";
import { startRealSentinels } from "./real_sentinel.ts";

const libraries = ["redis-py", "ioredis", "go-redis", "jedis"] as const;
type Lib = typeof libraries[number];
const endpoint = "redis-operator-sentinel.redis-operator.svc.cluster.local";

/** One group of writers (a library each) on one path, and the cases it went through. */
interface Group {
  readonly path: string;
  readonly writers: Record<Lib, AppWriter>;
  events?: Record<Lib, WriteEvent[]>;
  readonly cases: Array<{ name: string; from: number; resumeAfter: number; to: number }>;
  /** Where every acknowledged write should be at the end. */
  finalMaster?: string;
  readonly prefix: string;
  readonly planned: ReadonlySet<string>;
}

function startGroup(
  app: AppPod,
  path: string,
  target: WriterTarget,
  paths: Record<string, string>,
  prefix: string,
): Group {
  return {
    path,
    prefix,
    writers: startWriters(app, target, libraries, paths, prefix),
    cases: [],
    planned: new Set(["SENTINEL FAILOVER"]),
  };
}

/**
 * Runs one fault on `groups` and records its window: from the fault until
 * every writer has written after `newMaster` said the new master is in place,
 * plus 2 s.
 */
async function runCase(
  groups: readonly Group[],
  name: string,
  act: () => Promise<void>,
  newMaster: () => Promise<unknown>,
): Promise<void> {
  const from = Date.now();
  await act();
  await waitFor(`a new master after ${name}`, async () => (await newMaster()) || undefined, 90_000);
  const resumeAfter = Date.now();
  await waitFor(
    `every writer writing after ${name}`,
    () =>
      Promise.resolve(
        groups.every((g) => libraries.every((lib) => g.writers[lib].wroteAfter(resumeAfter))) ||
          undefined,
      ),
    120_000,
  ).catch(() => {});
  await new Promise((r) => setTimeout(r, 2000));
  for (const group of groups) group.cases.push({ name, from, resumeAfter, to: Date.now() });
}

/** How long an isolated master stays cut off: past Sentinel's 5 s down-after and its election. */
const isolationMs = 12_000;

/** Cuts `pod` off from everyone for {@linkcode isolationMs}, then heals it. */
async function isolateFor(namespace: string, pod: string): Promise<void> {
  await fault("isolate", namespace, pod);
  try {
    await new Promise((r) => setTimeout(r, isolationMs));
  } finally {
    await fault("heal", namespace, pod);
  }
}

/** One row of the table, as bench/sentinel_bench.ts reads it. */
export interface SentinelCaseResult {
  readonly case: string;
  readonly library: string;
  readonly path: string;
  readonly longestPauseMs: number;
  readonly errors: string;
  readonly lost: number;
}

async function stopGroup(group: Group): Promise<void> {
  group.events = Object.fromEntries(
    await Promise.all(libraries.map(async (lib) => [lib, await group.writers[lib].stop()])),
  ) as Record<Lib, WriteEvent[]>;
}

/** Acknowledged writes of `lib` missing from the group's final master. */
function lostOf(group: Group, lib: Lib): Promise<number[]> {
  const acks = group.events![lib].filter((e) => e.ok).map((e) => ({ seq: e.n }));
  return lostWrites(group.finalMaster!, acks, undefined, `${group.prefix}${lib}`);
}

Deno.test("Sentinel clients: the operator's endpoint, its master Service and real Sentinel", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const paths = await writerPaths();
  const ns = await testNamespace("sentinel");
  const n = ns.name;
  const groups: Group[] = [];
  try {
    await kubectl(["-n", n, "apply", "-f", "-"], redisManifest("app"));
    const app = await startAppPod(client, n, "app");
    let redis = await waitForReady(client, n, "app");
    const masterName = `${n}/app`;

    // A tool in any pod asks the endpoint as it would ask a Sentinel.
    const cli = (...command: string[]) =>
      kubectl([
        "-n",
        n,
        "exec",
        "app",
        "--",
        "redis-cli",
        "-h",
        endpoint,
        "-p",
        "26379",
        ...command,
      ]);
    const address = await waitFor("the endpoint to name the master", async () => {
      const lines = (await cli("SENTINEL", "get-master-addr-by-name", masterName).catch(() => ""))
        .trim().split("\n");
      return lines[0] === redis.status!.masterIP ? lines : undefined;
    });
    assert.deepEqual(address, [redis.status!.masterIP, "6379"]);

    // 1. The operator: through the endpoint and through the master Service, side by side.
    const ours = [
      startGroup(
        app,
        "operator, Sentinel protocol",
        {
          sentinel: endpoint,
          port: 26379,
          masterName,
        },
        paths,
        "op-sentinel-",
      ),
      startGroup(
        app,
        "operator, master Service",
        { service: "redis-app-master" },
        paths,
        "op-service-",
      ),
    ];
    groups.push(...ours);
    for (const group of ours) await waitUntilWriting(group.writers);
    await new Promise((r) => setTimeout(r, 2000));
    const movedFrom = (ip: string) => async () => {
      const now = await getRedis(client, n, "app");
      const ready = now.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
      return ready && now.status?.masterIP !== ip ? now : undefined;
    };
    await runCase(ours, "SENTINEL FAILOVER", async () => {
      assert.equal((await cli("SENTINEL", "FAILOVER", masterName)).trim(), "OK");
    }, movedFrom(redis.status!.masterIP!));
    redis = await waitForReady(client, n, "app", 3, 120_000);
    await runCase(
      ours,
      "isolation of the master",
      () => isolateFor(n, redis.status!.master!),
      movedFrom(redis.status!.masterIP!),
    );
    redis = await waitForReady(client, n, "app", 3, 120_000);
    await runCase(
      ours,
      "kill -9 of the master",
      () => fault("kill", n, redis.status!.master!),
      movedFrom(redis.status!.masterIP!),
    );
    await Promise.all(ours.map(stopGroup));
    const final = await waitForReady(client, n, "app", 3, 120_000);
    for (const group of ours) group.finalMaster = final.status!.masterIP!;

    // 2. Real Sentinel, 5000 then 1000 ms.
    for (const downAfterMs of [5000, 1000]) {
      const sentinels = await startRealSentinels(client, n, `s${downAfterMs}`, downAfterMs);
      const group = startGroup(
        app,
        `redis-sentinel, down-after ${downAfterMs} ms`,
        { sentinel: sentinels.service, port: 26379, masterName: sentinels.masterName },
        paths,
        `s${downAfterMs}-`,
      );
      groups.push(group);
      await waitUntilWriting(group.writers);
      await new Promise((r) => setTimeout(r, 2000));
      let master = (await sentinels.currentMaster())!;
      const sentinelMovedFrom = (ip: string) => async () => {
        const now = await sentinels.currentMaster();
        return now && now !== ip ? now : undefined;
      };
      await runCase([group], "SENTINEL FAILOVER", async () => {
        const sentinel = new Redis({ host: sentinels.sentinelIps[0], port: 26379 });
        try {
          assert.equal(await sentinel.call("SENTINEL", "FAILOVER", sentinels.masterName), "OK");
        } finally {
          sentinel.disconnect();
        }
      }, sentinelMovedFrom(master));
      // Every replica back in sync with the new master before the next fault.
      const inSync = async () => {
        master = (await sentinels.currentMaster())!;
        await waitFor("both replicas in sync", async () => {
          const check = new Redis({ host: master, lazyConnect: true, maxRetriesPerRequest: 1 });
          check.on("error", () => {});
          try {
            await check.connect();
            const info = await check.info("replication");
            return (info.match(/state=online/g) ?? []).length === 2 || undefined;
          } catch {
            return undefined;
          } finally {
            check.disconnect();
          }
        }, 90_000);
      };
      await inSync();
      const isolated = (await sentinels.podOf(master))!;
      await runCase(
        [group],
        "isolation of the master",
        () => isolateFor(n, isolated),
        sentinelMovedFrom(master),
      );
      await inSync();
      const pod = (await sentinels.podOf(master))!;
      await runCase(
        [group],
        "kill -9 of the master",
        () => fault("kill", n, pod),
        sentinelMovedFrom(master),
      );
      await stopGroup(group);
      group.finalMaster = (await sentinels.currentMaster())!;
    }

    // The table: one row per case, path and library.
    const rows: string[] = [];
    const results: SentinelCaseResult[] = [];
    const problems: string[] = [];
    for (const group of groups) {
      for (const lib of libraries) {
        const events = group.events![lib];
        const lost = await lostOf(group, lib);
        const ackTimes = new Map(events.filter((e) => e.ok).map((e) => [e.n, e.at]));
        for (const c of group.cases) {
          const report = reportWindow(events, c.from, c.to);
          const lostHere = lost.filter((k) =>
            ackTimes.get(k)! >= c.from - 3000 && ackTimes.get(k)! <= c.to
          );
          if (!events.some((e) => e.ok && e.at > c.resumeAfter && e.at <= c.to)) {
            problems.push(
              `${lib} via ${group.path} did not write again after ${c.name}; last ${
                JSON.stringify(events.filter((e) => e.at < c.to).slice(-2))
              }; stderr ${(await group.writers[lib].stderr()).slice(-400)}`,
            );
          }
          if (group.path.startsWith("operator") && group.planned.has(c.name) && lostHere.length) {
            problems.push(`${lib} via ${group.path} lost ${lostHere.length} writes in ${c.name}`);
          }
          const errors = errorCounts(report);
          results.push({
            case: c.name,
            library: lib,
            path: group.path,
            longestPauseMs: report.longestPauseMs,
            errors,
            lost: lostHere.length,
          });
          rows.push(
            `| ${c.name} | ${lib} | ${group.path} | ${report.longestPauseMs} | ${errors} | ${lostHere.length} |`,
          );
        }
      }
    }
    const samples = groups.flatMap((group) =>
      libraries.flatMap((lib) => errorSamples(`${lib} via ${group.path},`, group.events![lib]))
    );
    rows.sort((a, b) => a.split("|")[1]!.localeCompare(b.split("|")[1]!));
    console.log(renderTable(
      "Sentinel clients:",
      [
        "case",
        "library",
        "path",
        "longest without a write (ms)",
        "errors",
        "acknowledged writes lost",
      ],
      rows,
      samples,
    ));
    // For bench/sentinel_bench.ts's report, when it asked.
    const out = Deno.env.get("BENCH_RESULTS");
    if (out) await Deno.writeTextFile(out, JSON.stringify(results));
    assert.deepEqual(problems, [], problems.join("\n"));
  } finally {
    await Promise.all(
      groups.flatMap((g) => libraries.map((lib) => g.writers[lib].stop())),
    );
    await ns.remove();
    client.close();
  }
});
