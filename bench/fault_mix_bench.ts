/**
 * The seeded fault mix of tests/chaos/fault_mix_test.ts for 5 minutes, on a
 * local cluster of its own (`--name=bench`), brought up and down here. Its
 * report (steps, verdicts, losses) is the test's output.
 *
 * @module
 */
import { onBenchCluster } from "./bench_cluster.ts";

/** How long the bench's schedule runs. */
export const benchMixDurationMs = 5 * 60_000;

/**
 * Runs the mix with `seed`: whether every invariant held, and the verdict
 * lines (none when the mix did not get that far).
 */
export async function benchFaultMix(seed: number): Promise<{ ok: boolean; verdicts: string[] }> {
  const { ok, results } = await onBenchCluster<string[]>(
    ["test", "-A", "tests/chaos/fault_mix_test.ts"],
    { CHAOS_SEED: String(seed), CHAOS_DURATION_MS: String(benchMixDurationMs) },
  );
  return { ok, verdicts: results ?? [] };
}
