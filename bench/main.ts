/**
 * `deno task bench`: every benchmark, each method beside its baseline on
 * the same machine in the same run, reported as ratios of medians, on real
 * redis-server processes on loopback; then, each on a local cluster of its
 * own, the loss per kill -9 under pipelined load through the operator
 * (bench/cluster_loss_bench.ts) and a 5-minute seeded fault mix
 * (bench/fault_mix_bench.ts).
 *
 * Usage: deno task bench [rounds] [seed]
 *
 * @module
 */
import { benchClusterLoss } from "./cluster_loss_bench.ts";
import { benchFailover } from "./failover_bench.ts";
import { benchFaultMix } from "./fault_mix_bench.ts";
import { benchHeavyLoss } from "./heavy_loss_bench.ts";
import { benchHandover } from "./handover_bench.ts";
import { summarize } from "./stats.ts";

const rounds = Number(Deno.args[0] ?? "10");
console.log(summarize("planned handover: writes stopped (ms)", await benchHandover(rounds)));
console.log(
  summarize(
    "kill -9 of the master: first write on the new master (ms)",
    await benchFailover(rounds),
  ),
);

const heavy = await benchHeavyLoss(rounds);
console.log(
  summarize("kill -9 of the master under pipelined load: acknowledged writes lost", heavy.lost),
);
console.log(summarize("the same: acknowledged writes per second before the kill", heavy.perSecond));

console.log("kill -9 of the master under pipelined load, on a local cluster through the operator");
if (!await benchClusterLoss(rounds)) {
  console.log("the cluster loss bench did not complete (see above)");
  Deno.exitCode = 1;
}

const seed = Number(Deno.args[1] ?? Date.now() % 2 ** 31);
console.log(`fault mix for 5 minutes, seed ${seed}`);
if (!await benchFaultMix(seed)) {
  console.log(`fault mix, seed ${seed}: an invariant failed (see above)`);
  Deno.exitCode = 1;
}
