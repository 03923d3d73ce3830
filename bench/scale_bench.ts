/**
 * bench/scale_run.ts on a local cluster of its own (`--name=bench`), brought
 * up and down here: N Redis resources under one operator, for each N.
 *
 * @module
 */
import { onBenchCluster } from "./bench_cluster.ts";
import type { ScaleResult } from "./scale_run.ts";
import type { ReportCurve } from "./report.ts";

/** Runs the scale bench for `levels`; the sizes that completed, or undefined. */
export async function benchScale(levels: readonly number[]): Promise<ScaleResult[] | undefined> {
  const { results } = await onBenchCluster<ScaleResult[]>([
    "run",
    "-A",
    "bench/scale_run.ts",
    ...levels.map(String),
  ]);
  return results;
}

/** The report's curves from the scale results: one plot per cost, against N. */
export function scaleCurves(results: readonly ScaleResult[]): ReportCurve[] {
  const series = (name: string, pick: (r: ScaleResult) => number) => ({
    name,
    points: results.map((r) => [r.n, pick(r)] as const),
  });
  const xLabel = "Redis resources (3 pods each)";
  return [
    {
      id: "scale-ready",
      title: "Time until every Redis is Ready, and until every master is replaced",
      xLabel,
      yLabel: "seconds",
      series: [
        series("all Ready after apply", (r) => r.readyAllSeconds),
        series(
          "all masters killed at once: the last writable again",
          (r) => r.killAllRecoveredSeconds,
        ),
        series(
          "all masters killed at once: the median Redis writable again",
          (r) => r.killAllMedianSeconds,
        ),
        series("one master killed: writable again", (r) => r.killOneRecoveredSeconds),
        series(
          "operator restarted: a pass for every Redis",
          (r) => r.startupToAllReconciledSeconds,
        ),
      ],
    },
    {
      id: "scale-memory",
      title: "The leading operator's resident memory",
      xLabel,
      yLabel: "MB",
      series: [
        series("idle", (r) => r.idleRssMb),
        series("idle, V8 heap in use", (r) => r.idleHeapUsedMb),
        series("every master killed at once", (r) => r.churnRssMb),
      ],
    },
    {
      id: "scale-cpu",
      title: "The leading operator's CPU",
      xLabel,
      yLabel: "% of one core",
      series: [
        series("idle", (r) => r.idleCpuPercent),
        series("every master killed at once", (r) => r.churnCpuPercent),
      ],
    },
    {
      id: "scale-api",
      title: "API requests per minute at rest",
      xLabel,
      yLabel: "requests per minute",
      series: [
        series("reads", (r) => r.readsPerMinute),
        series("writes (the Lease's included)", (r) => r.writesPerMinute),
      ],
    },
  ];
}
