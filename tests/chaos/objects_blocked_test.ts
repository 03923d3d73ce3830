/**
 * Failover does not depend on the other objects (issue 8, item 2). Before,
 * any object the API server refused, or a user Secret that went missing,
 * ended every pass before Redis was observed: a master frozen for 15 s was
 * never replaced. Here the storage of a running Redis is grown (a
 * StatefulSet's claim templates are immutable) and, in a second Redis, the
 * password Secret is deleted; each time the master is then stopped (SIGSTOP)
 * and must be replaced within the detection window, while the status says
 * what the operator could not do.
 */
import assert from "node:assert/strict";
import type { KubeClient } from "../../src/kube/client.ts";
import { clusterClient, fault, kubectl, testNamespace, waitFor } from "../cluster/helpers.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "../e2e/operator.ts";

const detectionWindowMs = 2000;

/** Stops the master, waits for its replacement, resumes it; returns how long replacing took. */
async function replaceStoppedMaster(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<number> {
  const before = await getRedis(client, namespace, name);
  const master = before.status!.master!;
  const stoppedAt = Date.now();
  await fault("stop", namespace, master);
  try {
    return await waitFor(`a new master of ${name}`, async () => {
      const now = await getRedis(client, namespace, name);
      return now.status?.master && now.status.master !== master
        ? Date.now() - stoppedAt
        : undefined;
    }, 15_000);
  } finally {
    await fault("cont", namespace, master);
  }
}

/** Waits until the master and both replicas are connected again. */
async function allThreeBack(client: KubeClient, namespace: string, name: string): Promise<void> {
  await waitFor(
    `all three instances of ${name} back`,
    async () => (await getRedis(client, namespace, name)).status?.replicas === 3 ? true : undefined,
    60_000,
  );
}

/** Waits until the Degraded condition has `reason`; returns its message. */
async function degradedBy(
  client: KubeClient,
  namespace: string,
  name: string,
  reason: string,
): Promise<string> {
  return await waitFor(`Degraded ${reason}`, async () => {
    const redis = await getRedis(client, namespace, name);
    const degraded = redis.status?.conditions?.find((c) => c.type === "Degraded");
    return degraded?.status === "True" && degraded.reason === reason ? degraded.message : undefined;
  });
}

Deno.test("after a refused storage change, a stopped master is still replaced within the window", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("grow");
  const claim = (storage: string) => ({
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage } } },
  });
  try {
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest("grow", {
        failover: { detectionWindowMs },
        dataVolumeClaimTemplate: claim("1Gi"),
      }),
    );
    await waitForReady(client, ns.name, "grow");
    await kubectl([
      "-n",
      ns.name,
      "patch",
      "redis",
      "grow",
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { dataVolumeClaimTemplate: claim("2Gi") } }),
    ]);
    const message = await degradedBy(client, ns.name, "grow", "StorageChangeRefused");
    assert.match(message, /asks for 2Gi instead of 1Gi/);
    const replacedMs = await replaceStoppedMaster(client, ns.name, "grow");
    console.log(`storage change refused; stopped master replaced after ${replacedMs} ms`);
    // Ready stays False while the refusal stands; the replication itself is whole again.
    await allThreeBack(client, ns.name, "grow");
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("with its password Secret deleted, a stopped master is still replaced within the window", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("nosecret-failover");
  try {
    await kubectl([
      "-n",
      ns.name,
      "create",
      "secret",
      "generic",
      "auth",
      "--from-literal=pw=s3cret",
    ]);
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest("locked", {
        failover: { detectionWindowMs },
        password: { secretKeyRef: { name: "auth", key: "pw" } },
      }),
    );
    await waitForReady(client, ns.name, "locked");
    await kubectl(["-n", ns.name, "delete", "secret", "auth"]);
    assert.match(
      await degradedBy(client, ns.name, "locked", "SecretNotFound"),
      /Secret auth not found/,
    );
    const replacedMs = await replaceStoppedMaster(client, ns.name, "locked");
    console.log(`password Secret missing; stopped master replaced after ${replacedMs} ms`);
    await allThreeBack(client, ns.name, "locked");
    await kubectl([
      "-n",
      ns.name,
      "create",
      "secret",
      "generic",
      "auth",
      "--from-literal=pw=s3cret",
    ]);
    await waitForReady(client, ns.name, "locked", 3, 60_000);
  } finally {
    await ns.remove();
    client.close();
  }
});
