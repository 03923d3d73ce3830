/**
 * `deno task bench`: every benchmark, each method beside its baseline on
 * the same machine in the same run, on real redis-server processes on
 * loopback; then, each on a local cluster of its own, the loss per kill -9
 * under pipelined load through the operator (bench/cluster_loss_bench.ts)
 * a 5-minute seeded fault mix (bench/fault_mix_bench.ts) and N Redis resources
 * at once (bench/scale_run.ts). Writes the
 * report (docs/BENCHMARKS.md, its plots and raw results: bench/report.ts).
 *
 * Usage: deno task bench [rounds] [seed] [--smoke] [--out=DIR] [--scale=1,10,50,100]
 *   [--only=loopback,cluster-loss,fault-mix,sentinel,scale [--merge]]
 *
 * `--smoke` runs 2 rounds of the loopback benchmarks only and writes the
 * report to a temporary directory (or `--out`): `deno task test` runs it so
 * the bench cannot rot. Its figures mean nothing; no time is ever asserted.
 *
 * @module
 */
import { benchClusterLoss } from "./cluster_loss_bench.ts";
import { describeEnvironment } from "./environment.ts";
import { benchFailover } from "./failover_bench.ts";
import { benchFaultMix } from "./fault_mix_bench.ts";
import { benchHeavyLoss } from "./heavy_loss_bench.ts";
import { benchHandover } from "./handover_bench.ts";
import {
  assetDir,
  type BenchReport,
  type ReportCurve,
  type ReportSection,
  writeReport,
} from "./report.ts";
import { benchScale, scaleCurves } from "./scale_bench.ts";
import { benchSentinel, sentinelSections } from "./sentinel_bench.ts";
import { summarize } from "./stats.ts";

const flags = Deno.args.filter((a) => a.startsWith("--"));
const [roundsArg, seedArg] = Deno.args.filter((a) => !a.startsWith("--"));
const smoke = flags.includes("--smoke");
const out = flags.find((f) => f.startsWith("--out="))?.slice("--out=".length) ??
  (smoke ? await Deno.makeTempDir({ prefix: "bench-smoke-" }) : "docs");
const rounds = smoke ? 2 : Number(roundsArg ?? "10");
/** `--only=loopback,cluster-loss,fault-mix,sentinel,scale`: the parts to run (all by default). */
const only = flags.find((f) => f.startsWith("--only="))?.slice("--only=".length).split(",");
const want = (part: string) => !only || only.includes(part);
const sections: ReportSection[] = [];
const curves: ReportCurve[] = [];
const notes: string[] = [];
const section = (s: ReportSection) => {
  sections.push(s);
  console.log(summarize(s.title, s.samples));
};

if (want("loopback")) {
  // One part failing (a harness timeout) must not cost the parts after it their run.
  try {
    section({
      id: "handover",
      title: "Planned handover: how long writes stop (loopback)",
      unit: "ms",
      samples: await benchHandover(rounds),
      note:
        "Three redis-server processes; a writer SETs in a loop while the master hands over. Baseline: " +
        "Redis's own `FAILOVER TO`; ours: fence (min-replicas-to-write), wait for the target's offset, " +
        "promote, repoint. bench/handover_bench.ts.",
    });
    section({
      id: "failover",
      title: "kill -9 of the master: first write on the new master (loopback)",
      unit: "ms",
      samples: await benchFailover(rounds),
      note:
        "Baseline: three redis-sentinel processes (quorum 2, `down-after-milliseconds 1000`), " +
        "the writer asking a sentinel after each error; ours: the operator's instance monitor and " +
        "promotion without Kubernetes. bench/failover_bench.ts.",
    });
    const heavy = await benchHeavyLoss(rounds);
    section({
      id: "heavy-loss",
      title: "kill -9 under pipelined load: acknowledged writes lost (loopback)",
      unit: "writes",
      samples: heavy.lost,
      note: "Four clients sending pipelines of 50 SETs; baseline: a pipeline counts as safe when " +
        "the master answers; `WAIT 1 100` after each pipeline beside it. bench/heavy_loss_bench.ts.",
    });
    section({
      id: "heavy-rate",
      title: "The same: acknowledged writes per second before the kill (loopback)",
      unit: "writes/s",
      samples: heavy.perSecond,
    });
  } catch (error) {
    console.error("the loopback benchmarks stopped:", error);
    notes.push(`The loopback benchmarks stopped early: ${String(error)}.`);
    Deno.exitCode = 1;
  }
}

if (!smoke && want("cluster-loss")) {
  console.log(
    "kill -9 of the master under pipelined load, on a local cluster through the operator",
  );
  const cluster = await benchClusterLoss(rounds);
  if (cluster) {
    section({
      id: "cluster-loss",
      title: "kill -9 or deletion of the master pod under pipelined load: writes lost (cluster)",
      unit: "writes",
      samples: cluster.lost,
      note: "The local cluster, the operator deployed from deploy/; writers aim at the master " +
        "pod. bench/cluster_loss_run.ts.",
    });
    section({
      id: "cluster-rate",
      title: "The same: acknowledged writes per second before the fault (cluster)",
      unit: "writes/s",
      samples: cluster.perSecond,
    });
  } else {
    notes.push("The cluster loss bench did not complete (see its output).");
    Deno.exitCode = 1;
  }
}
if (!smoke && want("fault-mix")) {
  const seed = Number(seedArg ?? Date.now() % 2 ** 31);
  console.log(`fault mix for 5 minutes, seed ${seed}`);
  const mix = await benchFaultMix(seed);
  notes.push(
    `Seeded fault mix for 5 minutes (tests/chaos/fault_mix_test.ts, seed ${seed}): ${
      mix.ok ? "every invariant held" : "an invariant failed or could not be checked"
    }${mix.verdicts.length ? `: ${mix.verdicts.join("; ")}` : " (see the run's output)"}.`,
  );
  if (!mix.ok) Deno.exitCode = 1;
}
if (!smoke && want("sentinel")) {
  console.log("Sentinel side by side on a local cluster");
  // The client libraries' writers are built as for the tests (cached; skips what is built).
  const prepared = await new Deno.Command("bash", { args: ["tests/clients/prepare.sh"] }).spawn()
    .status;
  if (!prepared.success) throw new Error("tests/clients/prepare.sh failed");
  const rows = await benchSentinel();
  if (rows?.length) { for (const s of sentinelSections(rows)) section(s); }
  else {
    notes.push("The Sentinel comparison did not complete (see its output).");
    Deno.exitCode = 1;
  }
}
if (!smoke && want("scale")) {
  const levels = (flags.find((f) => f.startsWith("--scale="))?.slice("--scale=".length) ??
    "1,10,50,100").split(",").map(Number);
  console.log(`scale: ${levels.join(", ")} Redis resources`);
  const scale = await benchScale(levels);
  if (scale?.length) {
    curves.push(...scaleCurves(scale));
    for (const r of scale) {
      notes.push(
        `Scale, N=${r.n}: all Ready in ${
          r.readyAllSeconds.toFixed(1)
        } s. Leader at rest: ${r.idleRssMb} MB resident (V8 heap in use ${r.idleHeapUsedMb} MB), ${r.idleCpuPercent}% CPU; while every master was replaced: ${r.churnRssMb} MB, ${r.churnCpuPercent}% CPU. At rest ${r.readsPerMinute} API reads and ${r.writesPerMinute} writes a minute (${
          JSON.stringify(r.idleWrites)
        }). Every master killed at once: the median Redis writable after ${r.killAllMedianSeconds} s, the 90th percentile ${r.killAllP90Seconds} s, the last ${r.killAllRecoveredSeconds} s (one alone: ${r.killOneRecoveredSeconds} s); ${r.apiRequestsPerFailover} API requests per failover. Operator restarted: controller after ${r.startupToControllerSeconds} s, a pass for every Redis after ${r.startupToAllReconciledSeconds} s.`,
      );
    }
  }
  if (!scale || scale.length < levels.length) {
    notes.push(
      `Scale: ${
        scale?.length ?? 0
      } of ${levels.length} sizes completed (see the run's output for where it stopped).`,
    );
  }
}

/** The first words of each part's notes, so `--merge` can tell whose notes are replaced. */
const notePrefixes: Record<string, string> = {
  loopback: "The loopback",
  "cluster-loss": "The cluster loss",
  "fault-mix": "Seeded fault mix",
  sentinel: "The Sentinel",
  scale: "Scale",
};
const command = `deno task bench ${Deno.args.join(" ")}`.trim();
let report: BenchReport = {
  generatedAt: new Date().toISOString(),
  command,
  environment: await describeEnvironment(),
  sections,
  curves,
  notes,
};
// `--merge` (with `--only`): the parts run now replace theirs in the report already in
// `out`; the others stay as that run wrote them, and the report names both commands.
if (flags.includes("--merge")) {
  const earlier = JSON.parse(
    await Deno.readTextFile(`${out}/${assetDir}/results.json`),
  ) as BenchReport;
  const rerun = Object.entries(notePrefixes).filter(([part]) => want(part)).map(([, p]) => p);
  const sectionIds = new Set(sections.map((s) => s.id));
  const curveIds = new Set(curves.map((c) => c.id));
  report = {
    ...report,
    command: `${earlier.command}, then ${command}`,
    sections: [...earlier.sections.filter((s) => !sectionIds.has(s.id)), ...sections],
    curves: [...earlier.curves.filter((c) => !curveIds.has(c.id)), ...curves],
    notes: [...earlier.notes.filter((n) => !rerun.some((p) => n.startsWith(p))), ...notes],
  };
}
console.log(`report: ${await writeReport(report, out)}`);
