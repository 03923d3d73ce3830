/**
 * bench/cluster_loss_run.ts on a local cluster of its own (`--name=bench`),
 * brought up and down here: acknowledged writes lost per kill -9 of the
 * master under pipelined load, through the operator's own failover.
 *
 * @module
 */
import type { Sample } from "./stats.ts";

/** Runs `rounds` rounds of each method; the samples, or undefined when the run did not complete. */
export async function benchClusterLoss(
  rounds: number,
): Promise<{ lost: Sample[]; perSecond: Sample[] } | undefined> {
  const deno = Deno.execPath();
  const results = await Deno.makeTempFile({ prefix: "cluster-loss-", suffix: ".json" });
  const run = async (args: string[]) =>
    (await new Deno.Command(deno, {
      args,
      env: { BENCH_RESULTS: results },
      stdout: "inherit",
      stderr: "inherit",
    }).output()).success;
  const cli = ["run", "-A", "cluster/cli.ts"];
  try {
    if (!await run([...cli, "up", "--name=bench"])) return undefined;
    try {
      const ok = await run([
        ...cli,
        "exec",
        "--name=bench",
        "--",
        deno,
        "run",
        "-A",
        "bench/cluster_loss_run.ts",
        String(rounds),
      ]);
      return ok ? JSON.parse(await Deno.readTextFile(results)) : undefined;
    } finally {
      await run([...cli, "down", "--name=bench"]);
    }
  } finally {
    await Deno.remove(results).catch(() => {});
  }
}
