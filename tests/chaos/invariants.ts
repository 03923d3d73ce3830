/**
 * The invariants every chaos case ends with: exactly one instance accepts
 * writes and it is the master the status names; the master Service's
 * endpoints and the role labels point at it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { KubeClient } from "../../src/kube/client.ts";
import { kubectl, waitFor } from "../cluster/helpers.ts";
import { getRedis } from "../e2e/operator.ts";

/** Pod IPs matching `selector` in `namespace`. */
export async function podIPs(namespace: string, selector: string): Promise<string[]> {
  return (await podsOf(namespace, selector)).map((p) => p.ip).filter(Boolean);
}

/**
 * Names and addresses of the pods that `selector` picks (an address is "" until
 * assigned); `requestTimeout` is kubectl's ("0": none).
 */
export async function podsOf(
  namespace: string,
  selector: string,
  requestTimeout = "0",
): Promise<Array<{ name: string; ip: string }>> {
  const out = await kubectl([
    `--request-timeout=${requestTimeout}`,
    "-n",
    namespace,
    "get",
    "pods",
    "-l",
    selector,
    "-o",
    `jsonpath={range .items[*]}{.metadata.name}={.status.podIP}{"\\n"}{end}`,
  ]);
  return out.split("\n").filter(Boolean).map((line) => {
    const [name = "", ip = ""] = line.split("=");
    return { name, ip };
  });
}

/** Pod addresses that accept a write right now (replicas say READONLY, a fenced master NOREPLICAS). */
export async function writableInstances(namespace: string, selector: string): Promise<string[]> {
  return await writableAmong(await podIPs(namespace, selector));
}

/** A short-lived connection to one pod that gives up quickly, connected on first use. */
function probeClient(ip: string): Redis {
  const redis = new Redis({
    host: ip,
    port: 6379,
    lazyConnect: true,
    connectTimeout: 500,
    commandTimeout: 500,
    maxRetriesPerRequest: 0,
  });
  redis.on("error", () => {});
  return redis;
}

/** Those of `ips` that accept a write right now. */
export async function writableAmong(ips: readonly string[]): Promise<string[]> {
  const writable: string[] = [];
  for (const ip of ips) {
    const redis = probeClient(ip);
    try {
      await redis.connect();
      await redis.set("probe:writable", "1");
      writable.push(ip);
    } catch {
      /* not writable or unreachable */
    } finally {
      redis.disconnect();
    }
  }
  return writable;
}

/** Asserts the invariants for the Redis `name`, which must be Ready. */
export async function assertOneMasterEverywhere(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<void> {
  const redis = await getRedis(client, namespace, name);
  const masterIP = redis.status!.masterIP!;
  assert.deepEqual(
    await writableInstances(namespace, `redis=${name}`),
    [masterIP],
    "exactly one writable master, the one in the status",
  );
  const slices = JSON.parse(
    await kubectl([
      "-n",
      namespace,
      "get",
      "endpointslices",
      "-l",
      `kubernetes.io/service-name=redis-${name}-master`,
      "-o",
      "json",
    ]),
  ) as {
    items: Array<{ endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }> }>;
  };
  const endpoints = slices.items.flatMap((s) => s.endpoints ?? []).filter((e) =>
    e.conditions?.ready !== false
  )
    .flatMap((e) => e.addresses);
  assert.deepEqual(endpoints, [masterIP], "the master Service points at the master");
  const labelled = await kubectl([
    "-n",
    namespace,
    "get",
    "pods",
    "-l",
    `redis=${name},role=master`,
    "-o",
    "jsonpath={.items[*].metadata.name}",
  ]);
  assert.equal(labelled, redis.status!.master, "only the master carries role=master");
  // Every REPLICAOF to a new history, and every start as a replica, refuses reads until the
  // first sync; the operator then restores the spec's value (Redis's default, yes, here).
  let refusing: string[] = [];
  await waitFor("every replica back to replica-serve-stale-data yes", async () => {
    const ips = (await podIPs(namespace, `redis=${name}`)).filter((ip) => ip !== masterIP);
    refusing = [];
    for (const ip of ips) if (await servesStaleData(ip) === false) refusing.push(ip);
    return refusing.length === 0 ? true : undefined;
  }, 15_000).catch(() => {
    assert.fail(`replicas still refusing reads without a master link: ${refusing.join(", ")}`);
  });
}

/** An instance's `replica-serve-stale-data`, if it answers. */
async function servesStaleData(ip: string): Promise<boolean | undefined> {
  const redis = probeClient(ip);
  try {
    await redis.connect();
    const [, value] = await redis.config("GET", "replica-serve-stale-data") as string[];
    return value === "yes";
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/**
 * How long a master cut off from its replicas can still acknowledge writes,
 * with the operator's default `min-replicas-max-lag 2`: Redis counts a replica
 * as good while its last acknowledgement (sent once a second) is at most 2
 * whole seconds old, and recounts once a second (replicationCron). So up to
 * 2 s + 1 s of second-granularity + 1 s until the recount after the cut.
 */
export const fencingBoundMs = 4000;
