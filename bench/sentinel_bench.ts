/**
 * Sentinel side by side on one local cluster (`--name=bench`, brought up and
 * down here): tests/chaos/sentinel_clients_test.ts runs the operator (through
 * its Sentinel endpoint and through its master Service) and real
 * redis-sentinel at down-after-milliseconds 5000 and 1000, with four client
 * libraries each following its system as documented, through a planned
 * SENTINEL FAILOVER, an isolation of the master and a kill -9.
 *
 * @module
 */
import type { SentinelCaseResult } from "../tests/chaos/sentinel_clients_test.ts";
import { onBenchCluster } from "./bench_cluster.ts";
import type { ReportSection } from "./report.ts";

/** Runs the comparison; its rows, or undefined when it did not complete. */
export async function benchSentinel(): Promise<SentinelCaseResult[] | undefined> {
  const { results } = await onBenchCluster<SentinelCaseResult[]>([
    "test",
    "-A",
    "tests/chaos/sentinel_clients_test.ts",
  ]);
  return results;
}

/** One report section per case: each system's longest pause, one sample per client library. */
export function sentinelSections(rows: readonly SentinelCaseResult[]): ReportSection[] {
  const cases = [...new Set(rows.map((r) => r.case))];
  return cases.map((name) => {
    const here = rows.filter((r) => r.case === name);
    const lost = [...new Set(here.map((r) => r.path))].map((path) =>
      `${path}: ${here.filter((r) => r.path === path).reduce((t, r) => t + r.lost, 0)}`
    );
    return {
      id: `sentinel-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`,
      title: `${name}: longest time without an acknowledged write, per system (cluster)`,
      unit: "ms",
      samples: here.map((r) => ({
        // The common Sentinel setting is the baseline the ratios are taken against.
        method: r.path === "redis-sentinel, down-after 5000 ms" ? `baseline: ${r.path}` : r.path,
        value: r.longestPauseMs,
      })),
      note: `One sample per client library (redis-py, ioredis, go-redis, Jedis), each writing ` +
        `from a pod as its documentation shows: Sentinel clients ask their Sentinel, the ` +
        `master Service's clients connect by name. Acknowledged writes lost: ${
          lost.join("; ")
        }. tests/chaos/sentinel_clients_test.ts.`,
    };
  });
}
