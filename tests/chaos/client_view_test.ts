/**
 * What applications see (issue 9): three widely used client libraries,
 * ioredis, redis-py and go-redis, each with its default connection and retry
 * settings, write through the master Service's DNS name from inside a pod
 * (cluster DNS, then kube-proxy's ClusterIP translation) while the master is
 * killed, its pod deleted, the image rolled, and the master isolated.
 *
 * Asserted: writes resume for every library after every fault, and no
 * acknowledged write is lost in the planned cases (pod deleted, rolling
 * update). Measured and printed, never asserted: each library's longest time
 * without a write, its errors by kind, writes lost in the unplanned cases, and
 * kube-proxy's own delay (from our EndpointSlice write until a new connection
 * to the ClusterIP reaches the new master).
 *
 * The writers are built by tests/clients/prepare.sh (`deno task test` runs it).
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
  type WindowReport,
  type WriteEvent,
} from "../clients/client_report.ts";
import {
  type AppWriter,
  libraries,
  type Library,
  startAppPod,
  startWriters,
  writerPaths,
} from "./app_writers.ts";
import { ClusterIpProbe } from "./cluster_ip_probe.ts";
import { WriteLoad } from "./write_load.ts";

interface CaseResult {
  readonly name: string;
  readonly from: number;
  /** When the new master was reachable through the Service (and a cut-off one healed). */
  readonly resumeAfter: number;
  readonly to: number;
  readonly planned: boolean;
  readonly kubeProxyMs: number | undefined;
}

Deno.test("client view: ioredis, redis-py and go-redis through the master Service's name", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const paths = await writerPaths();
  const ns = await testNamespace("clients");
  const n = ns.name;
  const cases: CaseResult[] = [];
  let writers: Partial<Record<Library, AppWriter>> | undefined;
  try {
    await kubectl(["-n", n, "apply", "-f", "-"], redisManifest("app"));
    const app = await startAppPod(client, n, "app");
    await waitForReady(client, n, "app");
    const service = "redis-app-master";
    const clusterIP = (await kubectl([
      "-n",
      n,
      "get",
      "service",
      service,
      "-o",
      "jsonpath={.spec.clusterIP}",
    ])).trim();
    const running = startWriters(app, service, libraries, paths);
    writers = running;
    // The master EndpointSlice as a watcher sees it (this load's own writes go to pod IPs).
    const slices = new WriteLoad(client, n, service);
    const sliceWatch = slices.start().catch(() => {});
    await new Promise((r) => setTimeout(r, 3000));

    /** Runs one fault, waits until the Redis is whole again and records the window. */
    const runCase = async (
      name: string,
      planned: boolean,
      act: (master: string) => Promise<void>,
      settle: () => Promise<void> = async () => {},
    ) => {
      const before = await waitForReady(client, n, "app", 3, 600_000);
      // From the application pod: its node's kube-proxy is the one that matters.
      const prober = new ClusterIpProbe(app, clusterIP);
      // Answering before the fault: its start (a Deno process in the pod) is not in the delay.
      await waitFor(
        "the ClusterIP probe answering",
        () => Promise.resolve(prober.answers.length > 0 || undefined),
        30_000,
      ).catch(async (error) => {
        await prober.stop();
        throw error;
      });
      const from = Date.now();
      let sliceAt = 0;
      let reached = 0;
      try {
        await act(before.status!.master!);
        const after = await waitFor("a new master", async () => {
          const redis = await getRedis(client, n, "app");
          return redis.status?.masterIP && redis.status.masterIP !== before.status!.masterIP
            ? redis
            : undefined;
        }, 60_000);
        sliceAt = await waitFor(
          "the master EndpointSlice naming the new master",
          () =>
            Promise.resolve(
              slices.endpointChanges.find((c) =>
                c.at >= from && c.ips.length === 1 && c.ips[0] === after.status!.masterIP
              )?.at,
            ),
          30_000,
        );
        reached = await waitFor(
          "a new ClusterIP connection reaching the new master",
          () =>
            Promise.resolve(
              prober.answers.find(([at, ip]) => at > from && ip === after.status!.masterIP)?.[0],
            ),
          30_000,
        );
      } finally {
        await prober.stop();
        // Healed whatever happened above, so no later test finds a cut-off pod.
        await settle();
      }
      // From here on the new master takes new connections through the Service (and a
      // cut-off master is back): every application must write again after this moment.
      const resumeAfter = Date.now();
      await waitForReady(client, n, "app", 3, 600_000);
      // How long that takes is what the case measures; one that never does fails below.
      await waitFor(
        "every application writing again",
        () =>
          Promise.resolve(
            libraries.every((lib) => running[lib].wroteAfter(resumeAfter)) || undefined,
          ),
        120_000,
      ).catch(() => {});
      await new Promise((r) => setTimeout(r, 2000));
      cases.push({
        name,
        from,
        resumeAfter,
        to: Date.now(),
        planned,
        kubeProxyMs: reached - sliceAt,
      });
    };

    await runCase("kill -9 of the master", false, (master) => fault("kill", n, master));
    await runCase("master pod deleted", true, async (master) => {
      await kubectl(["-n", n, "delete", "pod", master, "--wait=false"]);
    });
    await runCase("rolling update", true, async () => {
      await kubectl([
        "-n",
        n,
        "patch",
        "redis",
        "app",
        "--type=merge",
        "-p",
        '{"spec":{"redis":{"image":"redis:7.0.15"}}}',
      ]);
    });
    let isolated = "";
    await runCase("isolation of the master", false, async (master) => {
      isolated = master;
      await fault("isolate", n, master);
    }, async () => {
      // Healed once the new master is in place, as a network blip ends.
      await fault("heal", n, isolated);
    });

    const events = Object.fromEntries(
      await Promise.all(libraries.map(async (lib) => [lib, await running[lib].stop()])),
    ) as Record<Library, WriteEvent[]>;
    await slices.stop();
    await sliceWatch;

    // Every acknowledged write of every library is on the final master, but those an
    // unplanned fault may take with it (asynchronous replication).
    const final = await waitForReady(client, n, "app");
    const check = new Redis({ host: final.status!.masterIP! });
    const lost = Object.fromEntries(libraries.map((lib) => [lib, [] as number[]])) as Record<
      Library,
      number[]
    >;
    try {
      for (const lib of libraries) {
        const acked = events[lib].filter((e) => e.ok).map((e) => e.n);
        for (let i = 0; i < acked.length; i += 1000) {
          const batch = acked.slice(i, i + 1000);
          const values = await check.mget(...batch.map((k) => `${lib}:${k}`));
          batch.forEach((k, j) => {
            if (values[j] !== String(k)) lost[lib].push(k);
          });
        }
      }
    } finally {
      check.disconnect();
    }

    const rows: string[] = [];
    const problems: string[] = [];
    for (const c of cases) {
      for (const lib of libraries) {
        const report: WindowReport = reportWindow(events[lib], c.from, c.to);
        const ackTimes = new Map(events[lib].filter((e) => e.ok).map((e) => [e.n, e.at]));
        const lostHere = lost[lib].filter((k) => {
          const at = ackTimes.get(k)!;
          return at >= c.from - 3000 && at <= c.to;
        });
        // Writes before the Service moved do not count: they could have gone to the old master.
        const resumed = events[lib].some((e) => e.ok && e.at > c.resumeAfter && e.at <= c.to);
        if (!resumed) {
          const last = events[lib].filter((e) => e.at < c.to).slice(-3);
          problems.push(
            `${lib} did not write again after ${c.name} (window ${
              c.to - c.from
            } ms); its last writes ${JSON.stringify(last)}; stderr: ${
              (await running[lib].stderr()).slice(-500)
            }`,
          );
        }
        if (c.planned && lostHere.length) {
          problems.push(`${lib} lost ${lostHere.length} acknowledged writes in ${c.name}`);
        }
        const errors = errorCounts(report);
        rows.push(
          `| ${c.name} | ${lib} | ${report.longestPauseMs} | ${errors} | ${lostHere.length} | ${
            c.kubeProxyMs ?? "-"
          } |`,
        );
      }
    }
    const total = libraries.map((lib) => `${lib} ${events[lib].filter((e) => e.ok).length}`);
    // One message of each kind per library, so "other" can be read, not guessed.
    const samples = libraries.flatMap((lib) => errorSamples(lib, events[lib]));
    console.log(renderTable(
      `client view (acknowledged writes: ${total.join(", ")}):`,
      [
        "case",
        "library",
        "longest without a write (ms)",
        "errors",
        "acknowledged writes lost",
        "kube-proxy: slice written → new connection reaches new master (ms)",
      ],
      rows,
      samples,
    ));
    // Asserted after the table is printed, so a failing run still shows what it measured.
    assert.deepEqual(problems, [], problems.join("\n"));
  } finally {
    // On a failure above, the writers must not outlive the test (stopping twice is harmless).
    await Promise.all(Object.values(writers ?? {}).map((w) => w.stop()));
    await ns.remove();
    client.close();
  }
});
