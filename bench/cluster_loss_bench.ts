/**
 * bench/cluster_loss_run.ts on a local cluster of its own (`--name=bench`),
 * brought up and down here: acknowledged writes lost per kill -9 of the
 * master under pipelined load, through the operator's own failover.
 *
 * @module
 */

/** Runs `rounds` rounds of each method; true when the run completed. */
export async function benchClusterLoss(rounds: number): Promise<boolean> {
  const deno = Deno.execPath();
  const run = async (args: string[]) =>
    (await new Deno.Command(deno, { args, stdout: "inherit", stderr: "inherit" }).output())
      .success;
  const cli = ["run", "-A", "cluster/cli.ts"];
  if (!await run([...cli, "up", "--name=bench"])) return false;
  try {
    return await run([
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
  } finally {
    await run([...cli, "down", "--name=bench"]);
  }
}
