/**
 * Counting what the operator writes, for the tests of "a pass that finds
 * nothing to change writes nothing". The counts come from the leader's
 * request metrics: a server-side apply that changes nothing moves no
 * resourceVersion, so only the operator's own count shows it.
 *
 * @module
 */
import { kubectl, waitFor } from "../cluster/helpers.ts";

/**
 * The operator's write requests (anything but GET) by method and resource,
 * from its metrics; Lease requests (leader election) left out.
 */
export function writeRequests(metrics: Map<string, number>): Map<string, number> {
  return new Map(
    [...metrics].filter(([key]) =>
      key.startsWith("redis_operator_api_requests_total") && !/method="GET"/.test(key) &&
      !/resource="leases"/.test(key)
    ),
  );
}

/** The write requests made between two scrapes, as `{method,resource}` → count; empty when none. */
export function writesBetween(
  before: Map<string, number>,
  after: Map<string, number>,
): Record<string, number> {
  const earlier = writeRequests(before);
  const made: Record<string, number> = {};
  for (const [key, value] of writeRequests(after)) {
    const count = value - (earlier.get(key) ?? 0);
    if (count) made[key.slice(key.indexOf("{"))] = count;
  }
  return made;
}

/** Successful reconcile passes counted by an operator's metrics. */
export function successfulPasses(metrics: Map<string, number>): number {
  return metrics.get('redis_operator_reconciles_total{result="success"}') ?? 0;
}

/**
 * Waits until the Redis resources in the whole cluster are exactly `names`
 * (`namespace/name`): the request counters are per operator, so the
 * resources of earlier tests (their namespaces go away in the background)
 * must be gone first.
 */
export async function waitForOnlyRedis(names: readonly string[]): Promise<void> {
  const wanted = [...names].sort().join(" ");
  await waitFor(`the Redis resources to be only ${wanted}`, async () => {
    const all = await kubectl([
      "get",
      "redis",
      "-A",
      "-o",
      'go-template={{range .items}}{{.metadata.namespace}}/{{.metadata.name}}{{" "}}{{end}}',
    ]);
    return all.trim().split(" ").filter(Boolean).sort().join(" ") === wanted ? true : undefined;
  }, 90_000);
  // Pods of Redis resources deleted by earlier tests still end (preStop, SIGTERM) after
  // their resources are gone, and the operator still hears of them: wait until they have.
  const namespaces = new Set(names.map((n) => n.split("/")[0]));
  await waitFor("the pods of other Redis resources to be gone", async () => {
    const pods = await kubectl([
      "get",
      "pods",
      "-A",
      "-l",
      "redis",
      "-o",
      'go-template={{range .items}}{{.metadata.namespace}}{{" "}}{{end}}',
    ]);
    return pods.trim().split(" ").filter(Boolean).every((ns) => namespaces.has(ns))
      ? true
      : undefined;
  }, 90_000);
}

/**
 * Waits until the leader is done with the Redis resources of other
 * namespaces, then until it made no write for `quietMs`. A pass for a Redis of
 * an earlier test that started before its namespace went away still ends with
 * its writes (refused ones count too), after {@linkcode waitForOnlyRedis}
 * found the resource gone. The pass that finds a Redis gone drops its gauges,
 * and passes of one Redis never overlap, so gauges of no other namespace mean
 * no such pass is left. Gives up after `timeoutMs` without failing (and says
 * so): an operator that never stops writing is what the window that follows
 * shows.
 */
export async function waitForQuietWrites(
  scrape: () => Promise<Map<string, number>>,
  namespaces: readonly string[],
  quietMs = 3_000,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const others = (metrics: Map<string, number>) =>
    // A gauge every pass sets and a forgetting pass drops (counters stay after a Redis).
    [...metrics.keys()].filter((key) => {
      if (!key.startsWith("redis_operator_desired_instances{")) return false;
      const namespace = key.match(/[{,]namespace="([^"]*)"/)?.[1];
      return namespace !== undefined && !namespaces.includes(namespace);
    });
  let before = await scrape();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const after = await scrape();
    if (others(after).length === 0 && Object.keys(writesBetween(before, after)).length === 0) {
      return;
    }
    before = after;
  }
  console.log(
    `the leader was not quiet for ${quietMs} ms within ${timeoutMs} ms; other Redis: ${
      others(before).slice(0, 3).join(", ")
    }`,
  );
}
