/**
 * The seeded fault mix of tests/chaos/fault_mix_test.ts for 5 minutes, on a
 * local cluster of its own (`--name=bench`), brought up and down here. Its
 * report (steps, verdicts, losses) is the test's output.
 *
 * @module
 */

/** How long the bench's schedule runs. */
export const benchMixDurationMs = 5 * 60_000;

/** Runs the mix with `seed`; true when every invariant held. */
export async function benchFaultMix(seed: number): Promise<boolean> {
  const deno = Deno.execPath();
  const run = async (args: string[], env: Record<string, string> = {}) =>
    (await new Deno.Command(deno, { args, env, stdout: "inherit", stderr: "inherit" }).output())
      .success;
  const cli = ["run", "-A", "cluster/cli.ts"];
  if (!await run([...cli, "up", "--name=bench"])) return false;
  try {
    return await run(
      [...cli, "exec", "--name=bench", "--", deno, "test", "-A", "tests/chaos/fault_mix_test.ts"],
      { CHAOS_SEED: String(seed), CHAOS_DURATION_MS: String(benchMixDurationMs) },
    );
  } finally {
    await run([...cli, "down", "--name=bench"]);
  }
}
