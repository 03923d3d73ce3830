/**
 * Failover on the local cluster with the operator from deploy/: several
 * Redis resources at once, and the loss of every pod but one.
 */
import assert from "node:assert/strict";
import { clusterClient, kubectl, redisCli, testNamespace, waitFor } from "../cluster/helpers.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "./operator.ts";

Deno.test("two Redis resources fail over at the same time without waiting for each other", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("twin");
  const k = (...args: string[]) => kubectl(["-n", ns.name, ...args]);
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("left"));
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("right"));
    const before = await Promise.all(
      ["left", "right"].map((name) => waitForReady(client, ns.name, name)),
    );
    for (const redis of before) {
      assert.equal(
        await redisCli(redis.status!.masterIP!, "SET", "owner", redis.metadata!.name!),
        "OK",
      );
    }

    const deleted = Date.now();
    await Promise.all(
      before.map((redis) => k("delete", "pod", redis.status!.master!, "--wait=false")),
    );
    const elected = await Promise.all(
      before.map((redis) =>
        waitFor(`a new master for ${redis.metadata!.name}`, async () => {
          const now = await getRedis(client, ns.name, redis.metadata!.name!);
          return now.status?.master && now.status.master !== redis.status!.master
            ? Date.now()
            : undefined;
        }, 30_000)
      ),
    );
    const spread = Math.abs(elected[0]! - elected[1]!);
    console.log(`new masters after ${elected.map((t) => t - deleted).join(" ms and ")} ms`);
    assert.ok(spread < 3000, `the second failover did not wait for the first (${spread} ms apart)`);
    for (const name of ["left", "right"]) {
      const redis = await waitForReady(client, ns.name, name);
      assert.equal(await redisCli(redis.status!.masterIP!, "GET", "owner"), name);
    }
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("all pods but one deleted at once with persistence off: no data is lost", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("lastone");
  const k = (...args: string[]) => kubectl(["-n", ns.name, ...args]);
  try {
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest("keep", { config: { save: '""', appendonly: "no" } }),
    );
    const redis = await waitForReady(client, ns.name, "keep");
    const master = redis.status!.masterIP!;
    for (let i = 0; i < 200; i++) await redisCli(master, "SET", `key:${i}`, `value:${i}`);
    // WAIT for both replicas to hold every write before the loss.
    assert.equal(await redisCli(master, "WAIT", "2", "5000"), "2");

    // Keep one replica; delete the master and the other replica together.
    const pods =
      (await k("get", "pods", "-l", "redis=keep", "-o", "jsonpath={.items[*].metadata.name}"))
        .split(" ");
    const survivor = pods.find((p) => p !== redis.status!.master)!;
    const doomed = pods.filter((p) => p !== survivor);
    const uid = (pod: string) =>
      k("get", "pod", pod, "-o", "jsonpath={.metadata.uid}", "--ignore-not-found");
    const oldUids = await Promise.all(doomed.map(uid));
    await k("delete", "pod", ...doomed, "--wait=false");
    await waitFor("replacement pods", async () => {
      const uids = await Promise.all(doomed.map(uid));
      return uids.every((u, i) => u && u !== oldUids[i]) ? true : undefined;
    });
    // A status written after the loss: the master's pod went, so a new epoch. (A status
    // read before the operator saw the loss still says Ready, with the old master.)
    const after = await waitFor("the Redis to be Ready on the new pods", async () => {
      const now = await waitForReady(client, ns.name, "keep", 3, 120_000);
      const pods = JSON.parse(await k("get", "pods", "-l", "redis=keep", "-o", "json")) as {
        items: Array<{ metadata: { uid: string } }>;
      };
      const replaced = pods.items.every((p) => !oldUids.includes(p.metadata.uid));
      return replaced && now.status!.epoch! > redis.status!.epoch! ? now : undefined;
    }, 120_000);
    assert.equal(
      after.status!.master,
      survivor,
      "the only instance holding the data became the master",
    );
    assert.equal(await redisCli(after.status!.masterIP!, "DBSIZE"), "200");
    assert.equal(await redisCli(after.status!.masterIP!, "GET", "key:199"), "value:199");
    // The status can say Ready while a replacement still starts: the master handed over by
    // its pod's deletion counted as a replica until its preStop hold ended (run 21).
    for (const pod of doomed) {
      await waitFor(`${pod} resynced from the survivor`, async () => {
        const ip = await k("get", "pod", pod, "-o", "jsonpath={.status.podIP}");
        return ip && await redisCli(ip, "DBSIZE").catch(() => "") === "200" ? true : undefined;
      }, 60_000);
    }
  } finally {
    await ns.remove();
    client.close();
  }
});
