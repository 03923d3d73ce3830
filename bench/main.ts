/**
 * `deno task bench`: every benchmark, each method beside its baseline on
 * the same machine in the same run, reported as ratios of medians. Real
 * redis-server processes on loopback only; no cluster needed.
 *
 * Usage: deno task bench [rounds]
 *
 * @module
 */
import { benchFailover } from "./failover_bench.ts";
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
