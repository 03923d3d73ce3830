/**
 * Chaos, planned: whenever the operator itself takes the master away it hands
 * mastership over first. Under a recorded write load: deleting the master's
 * pod, a rolling update of the image, a scale-down that removes the master.
 * No acknowledged write may be lost, and no replica copied in full without
 * need; the longest pause of writes is reported.
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
import { underLoad } from "./under_load.ts";

Deno.test("planned: the master's pod is deleted while its process runs: handover first, no write lost", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("handover");
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("planned"));
    const before = await waitForReady(client, ns.name, "planned");
    const result = await underLoad(client, ns.name, "planned", async () => {
      await kubectl(["-n", ns.name, "delete", "pod", before.status!.master!, "--wait=false"]);
    }, async () => {
      await waitFor("a handover", async () => {
        const now = await getRedis(client, ns.name, "planned");
        return now.status?.master !== before.status!.master ? true : undefined;
      });
      await waitForReady(client, ns.name, "planned");
    });
    const events = await kubectl([
      "-n",
      ns.name,
      "get",
      "events",
      "--field-selector",
      "reason=MasterChanged",
      "-o",
      "jsonpath={.items[*].message}",
    ]);
    assert.match(events, /planned handover from redis-planned-\d \(its pod is being deleted\)/);
    console.log(
      `master pod deleted: ${result.acks} writes, 0 lost, longest write pause ${result.pauseMs} ms`,
    );
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("planned: a rolling update of the image replaces replicas first, then the master after a handover", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("rolling");
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("rolling"));
    const before = await waitForReady(client, ns.name, "rolling");
    const uids = async () =>
      JSON.parse(
        await kubectl([
          "-n",
          ns.name,
          "get",
          "pods",
          "-l",
          "redis=rolling",
          "-o",
          "jsonpath={.items[*].metadata.uid}",
        ]).then((t) => JSON.stringify(t.split(" "))),
      );
    const oldUids: string[] = await uids();
    const result = await underLoad(client, ns.name, "rolling", async () => {
      await kubectl([
        "-n",
        ns.name,
        "patch",
        "redis",
        "rolling",
        "--type=merge",
        "-p",
        '{"spec":{"redis":{"image":"redis:7.0.15"}}}',
      ]);
    }, async () => {
      await explainTimeout(
        client,
        ns.name,
        "rolling",
        waitFor("every pod replaced", async () => {
          const now: string[] = await uids();
          return now.length === 3 && now.every((u) => !oldUids.includes(u)) ? true : undefined;
        }, 180_000),
      );
      await waitForReady(client, ns.name, "rolling");
    });
    const images = await kubectl([
      "-n",
      ns.name,
      "get",
      "pods",
      "-l",
      "redis=rolling",
      "-o",
      "jsonpath={.items[*].spec.containers[0].image}",
    ]);
    assert.deepEqual(images.split(" "), ["redis:7.0.15", "redis:7.0.15", "redis:7.0.15"]);
    const after = await getRedis(client, ns.name, "rolling");
    assert.notEqual(after.status!.epoch, before.status!.epoch, "the master moved by handover");
    console.log(
      `rolling update: ${result.acks} writes, 0 lost, longest write pause ${result.pauseMs} ms`,
    );
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("planned: a scale-down that removes the master's pod moves the master first", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("shrink");
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("shrink", { replicas: 4 }));
    await waitForReady(client, ns.name, "shrink", 4);
    // Put the master on the highest ordinal, the pod the scale-down removes: a manual
    // FAILOVER TO, which the operator then simply follows.
    const now = await waitForReady(client, ns.name, "shrink", 4);
    if (now.status!.master !== "redis-shrink-3") {
      const target = await kubectl([
        "-n",
        ns.name,
        "get",
        "pod",
        "redis-shrink-3",
        "-o",
        "jsonpath={.status.podIP}",
      ]);
      await redisCli(now.status!.masterIP!, "FAILOVER", "TO", target, "6379");
      await explainTimeout(
        client,
        ns.name,
        "shrink",
        waitFor("the operator to follow the manual failover", async () => {
          const redis = await getRedis(client, ns.name, "shrink");
          return redis.status?.master === "redis-shrink-3" ? true : undefined;
        }),
      );
      await waitForReady(client, ns.name, "shrink", 4);
    }
    const result = await underLoad(client, ns.name, "shrink", async () => {
      await kubectl(["-n", ns.name, "scale", "redis", "shrink", "--replicas", "3"]);
    }, async () => {
      await waitForReady(client, ns.name, "shrink", 3);
      await waitFor(
        "redis-shrink-3 to be gone",
        async () =>
          (await kubectl([
              "-n",
              ns.name,
              "get",
              "pod",
              "redis-shrink-3",
              "--ignore-not-found",
              "-o",
              "name",
            ])).trim() === ""
            ? true
            : undefined,
      );
    });
    const after = await getRedis(client, ns.name, "shrink");
    assert.notEqual(after.status!.master, "redis-shrink-3");
    console.log(
      `scale-down removing the master: ${result.acks} writes, 0 lost, longest write pause ${result.pauseMs} ms`,
    );
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("planned: a replica killed during the handover costs no acknowledged write", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("replicakill");
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("busy"));
    const before = await waitForReady(client, ns.name, "busy");
    const replicas = (await kubectl([
      "-n",
      ns.name,
      "get",
      "pods",
      "-l",
      "redis=busy,role=replica",
      "-o",
      "jsonpath={.items[*].metadata.name}",
    ]))
      .split(" ");
    const result = await underLoad(client, ns.name, "busy", async () => {
      // A handover takes milliseconds, so a kill sent after the delete would land after it.
      // The replica is frozen first: if the handover picks it, it waits on it, and the
      // kill lands during the handover; if not, the handover goes to the other one.
      await fault("stop", ns.name, replicas[0]!);
      await kubectl(["-n", ns.name, "delete", "pod", before.status!.master!, "--wait=false"]);
      await new Promise((r) => setTimeout(r, 300));
      await fault("kill", ns.name, replicas[0]!);
    }, async () => {
      await waitFor("a handover", async () => {
        const now = await getRedis(client, ns.name, "busy");
        return now.status?.master !== before.status!.master ? true : undefined;
      }, 60_000);
      await waitForReady(client, ns.name, "busy", 3, 120_000);
    });
    console.log(
      `replica killed during the handover: ${result.acks} writes, 0 lost, longest write pause ${result.pauseMs} ms`,
    );
  } finally {
    await ns.remove();
    client.close();
  }
});
