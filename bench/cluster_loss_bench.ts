/**
 * bench/cluster_loss_run.ts on a local cluster of its own (`--name=bench`),
 * brought up and down here: acknowledged writes lost per kill -9 of the
 * master under pipelined load, through the operator's own failover.
 *
 * @module
 */
import { onBenchCluster } from "./bench_cluster.ts";
import type { Sample } from "./stats.ts";

/** Runs `rounds` rounds of each method; the samples, or undefined when the run did not complete. */
export async function benchClusterLoss(
  rounds: number,
): Promise<{ lost: Sample[]; perSecond: Sample[] } | undefined> {
  const { ok, results } = await onBenchCluster<{ lost: Sample[]; perSecond: Sample[] }>([
    "run",
    "-A",
    "bench/cluster_loss_run.ts",
    String(rounds),
  ]);
  return ok ? results : undefined;
}
