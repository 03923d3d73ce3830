/**
 * Every Redis and Valkey version this machine can obtain (issue 14), on one
 * Redis resource that walks up through them: on each version the master is
 * killed (kill -9: a replica is promoted) and the master's pod is deleted (a
 * planned handover: no acknowledged write lost), then a rolling update moves
 * it to the next version through the zero-loss handover, under the sequential
 * write load. Each pod's INFO names the version its image tag asks for: the
 * node agent runs the builds of cluster/build/redis_versions.sh
 * (cluster/node_agent/redis_builds.ts), which `.ci/run` makes.
 */
import assert from "node:assert/strict";
import {
  clusterClient,
  fault,
  kubectl,
  redisCli,
  testNamespace,
  waitFor,
} from "../cluster/helpers.ts";
import {
  deployOperator,
  explainTimeout,
  getRedis,
  redisManifest,
  waitForReady,
} from "../e2e/operator.ts";
import { podIPs } from "./invariants.ts";
import { underLoad } from "./under_load.ts";
import type { KubeClient } from "../../src/kube/client.ts";

/** The upgrade path, oldest first: each image, and the version its pods must report. */
const chain = [
  { image: "redis:6.0", flavor: "redis", version: "6.0.16" },
  { image: "redis:7.0", flavor: "redis", version: "7.0.15" },
  { image: "valkey/valkey:8.1", flavor: "valkey", version: "8.1.1" },
  { image: "valkey/valkey:9", flavor: "valkey", version: "9.1.2" },
] as const;

/**
 * Redis's own upgrade path, apart from Valkey's: Valkey 8.1 and 9.1 cannot
 * load the RDB format Redis 8.0 writes (version 12), so no Valkey replica can
 * copy an 8.0 master (tried on loopback: "Can't handle RDB format version 12").
 */
const redisEight = [
  { image: "redis:8.0.2", flavor: "redis", version: "8.0.2" },
  { image: "redis:8.0", flavor: "redis", version: "8.0.6" },
] as const;

const name = "ver";

/** `flavor version` of every pod of the Redis, as its INFO server says. */
async function runningVersions(namespace: string): Promise<string[]> {
  const versions = [];
  for (const ip of await podIPs(namespace, `redis=${name}`)) {
    const info = await redisCli(ip, "info", "server");
    const valkey = info.match(/^valkey_version:(\S+)/m)?.[1];
    versions.push(
      valkey ? `valkey ${valkey}` : `redis ${info.match(/^redis_version:(\S+)/m)?.[1]}`,
    );
  }
  return versions.sort();
}

/** Sets the Redis's image (a rolling update, unless refused). */
async function setImage(namespace: string, image: string): Promise<void> {
  await kubectl([
    "-n",
    namespace,
    "patch",
    "redis",
    name,
    "--type=merge",
    "-p",
    JSON.stringify({ spec: { redis: { image } } }),
  ]);
}

/** Waits until every pod runs `image`, replaced, and the Redis is Ready again. */
async function rolledTo(client: KubeClient, namespace: string, image: string): Promise<void> {
  await explainTimeout(
    client,
    namespace,
    name,
    waitFor(`every pod on ${image}`, async () => {
      const images = await kubectl([
        "-n",
        namespace,
        "get",
        "pods",
        "-l",
        `redis=${name}`,
        "-o",
        "jsonpath={.items[*].spec.containers[0].image}",
      ]);
      return images.split(" ").filter((i) => i === image).length === 3 || undefined;
    }, 240_000),
  );
  await waitForReady(client, namespace, name, 3, 180_000);
}

/** The version's faults: kill -9 of the master, then its pod deleted under load. */
async function faultsOn(client: KubeClient, namespace: string, label: string): Promise<void> {
  const before = await getRedis(client, namespace, name);
  await fault("kill", namespace, before.status!.master!);
  await explainTimeout(
    client,
    namespace,
    name,
    waitFor(`${label}: a new master after kill -9`, async () => {
      const now = await getRedis(client, namespace, name);
      return now.status?.master !== before.status!.master ? true : undefined;
    }, 60_000),
  );
  await waitForReady(client, namespace, name, 3, 180_000);
  const master = (await getRedis(client, namespace, name)).status!.master!;
  const deleted = await underLoad(client, namespace, name, async () => {
    await kubectl(["-n", namespace, "delete", "pod", master, "--wait=false"]);
  }, async () => {
    await waitFor(`${label}: the deleted master replaced`, async () => {
      const now = await getRedis(client, namespace, name);
      return now.status?.master !== master ? true : undefined;
    }, 60_000);
    await waitForReady(client, namespace, name, 3, 180_000);
  });
  console.log(`${label}: kill -9 failed over; pod deletion: ${deleted.acks} writes, 0 lost`);
}

/** Walks `path` on one Redis: faults on each version, a rolling update to the next. */
async function walk(
  path: ReadonlyArray<(typeof chain)[number] | (typeof redisEight)[number]>,
) {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("versions");
  try {
    const [first, ...rest] = path;
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest(name, { redis: { image: first!.image, initialDelaySeconds: 2 } }),
    );
    await waitForReady(client, ns.name, name, 3, 120_000);
    let current = first!;
    for (const next of [...rest, undefined]) {
      const expected = `${current.flavor} ${current.version}`;
      assert.deepEqual(await runningVersions(ns.name), [expected, expected, expected]);
      await faultsOn(client, ns.name, expected);
      if (!next) break;
      const rolled = await underLoad(client, ns.name, name, async () => {
        await setImage(ns.name, next.image);
      }, () => rolledTo(client, ns.name, next.image));
      console.log(
        `${expected} -> ${next.flavor} ${next.version}: ${rolled.acks} writes, 0 lost, longest pause ${rolled.pauseMs} ms`,
      );
      current = next;
    }
  } finally {
    await ns.remove();
    client.close();
  }
}

Deno.test("versions: Redis 6.0 to 7.0 to Valkey 8.1 to Valkey 9, with kill -9 and a planned handover on each, no acknowledged write lost in the planned cases", async () => {
  await walk(chain);
});

Deno.test("versions: Redis 7.0 to 8.0.2 to 8.0.6 by rolling update, with kill -9 and a planned handover on each", async () => {
  await walk([chain[1], ...redisEight]);
});

Deno.test("versions: Redis 8.0 to Valkey is refused, with the reason, and the running image kept", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("rdb12");
  try {
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest(name, { redis: { image: "redis:8.0", initialDelaySeconds: 2 } }),
    );
    await waitForReady(client, ns.name, name, 3, 120_000);
    const image = (to: string) => setImage(ns.name, to);
    const degraded = async () =>
      (await getRedis(client, ns.name, name)).status?.conditions?.find((c) =>
        c.type === "Degraded"
      );
    await image("valkey/valkey:9");
    const refused = await explainTimeout(
      client,
      ns.name,
      name,
      waitFor("ImageChangeRefused", async () => {
        const condition = await degraded();
        return condition?.reason === "ImageChangeRefused" ? condition : undefined;
      }, 60_000),
    );
    assert.match(refused.message ?? "", /RDB format 12/);
    const statefulSetImage = await kubectl([
      "-n",
      ns.name,
      "get",
      "statefulset",
      `redis-${name}`,
      "-o",
      "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert.equal(statefulSetImage, "redis:8.0", "the StatefulSet keeps the running image");
    assert.deepEqual(await runningVersions(ns.name), ["redis 8.0.6", "redis 8.0.6", "redis 8.0.6"]);
    await image("redis:8.0");
    await waitFor("the refusal cleared", async () => {
      const condition = await degraded();
      return condition?.status === "False" ? true : undefined;
    }, 60_000);
  } finally {
    await ns.remove();
    client.close();
  }
});
