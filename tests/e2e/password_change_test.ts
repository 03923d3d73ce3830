/**
 * Adding a password to a running Redis and removing it again (issue 8, item
 * 3), under a recorded write load: both complete live, without a restart, a
 * change of master or a lost acknowledged write; the operator's own Secret
 * then says what the pods start with. Before, adding one left every instance
 * answering AUTH with an error and the Redis stuck at 0 ready, forever.
 */
import assert from "node:assert/strict";
import { clusterClient, kubectl, redisCli, testNamespace, waitFor } from "../cluster/helpers.ts";
import { lostWrites, WriteLoad } from "../chaos/write_load.ts";
import { deployOperator, redisManifest, waitForReady } from "./operator.ts";

Deno.test("a password is added to a running Redis and removed again, live, under load, losing no write", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("addpass");
  const k = (...args: string[]) => kubectl(["-n", ns.name, ...args]);
  const pods = async () =>
    JSON.parse(await k("get", "pods", "-l", "redis=open", "-o", "json")).items as Array<{
      metadata: { name: string; uid: string };
      status: { podIP: string; containerStatuses?: Array<{ restartCount: number }> };
    }>;
  const identity = async () =>
    (await pods()).map((p) =>
      `${p.metadata.name}/${p.metadata.uid}/${p.status.containerStatuses?.[0]?.restartCount}`
    ).sort();
  const everyPod = async (check: (ip: string) => Promise<boolean>) => {
    for (const pod of await pods()) if (!await check(pod.status.podIP)) return false;
    return true;
  };
  const copyKeys = () => k("get", "secret", "redis-open", "-o", "jsonpath={.data}");
  const password = 'added-Pa55 "word"';
  const auth = ["-a", password, "--no-auth-warning"];
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("open"));
    const before = await waitForReady(client, ns.name, "open");
    const podsBefore = await identity();
    const load = new WriteLoad(client, ns.name, "redis-open-master");
    await load.start();
    await new Promise((r) => setTimeout(r, 500));

    // Add: the application gets the password with the Secret.
    await k("create", "secret", "generic", "open-auth", `--from-literal=pw=${password}`);
    load.usePassword(password);
    const addedAt = Date.now();
    await k(
      "patch",
      "redis",
      "open",
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { password: { secretKeyRef: { name: "open-auth", key: "pw" } } } }),
    );
    await waitFor("every instance to require the password", async () => {
      const required = await everyPod(async (ip) =>
        /NOAUTH/.test(await redisCli(ip, "PING")) &&
        await redisCli(ip, ...auth, "PING") === "PONG"
      );
      return required && !(await copyKeys()).includes("previous-password") ? true : undefined;
    }, 60_000);
    await waitForReady(client, ns.name, "open");
    await waitFor(
      "writes with the password",
      () => Promise.resolve(load.acks.some((a) => a.at > addedAt + 200) ? true : undefined),
    );

    // Remove: the application stops sending it once the Redis no longer asks.
    const removedAt = Date.now();
    await k(
      "patch",
      "redis",
      "open",
      "--type=json",
      "-p",
      '[{"op":"remove","path":"/spec/password"}]',
    );
    await waitFor("every instance to take clients without a password", async () => {
      const open = await everyPod(async (ip) => await redisCli(ip, "PING") === "PONG");
      const keys = await copyKeys();
      return open && !keys.includes("password") ? true : undefined;
    }, 60_000);
    load.usePassword(undefined);
    const after = await waitForReady(client, ns.name, "open");
    await waitFor(
      "writes without the password",
      () => Promise.resolve(load.acks.some((a) => a.at > removedAt + 200) ? true : undefined),
    );
    const report = await load.stop();

    assert.equal(after.status!.master, before.status!.master, "the master did not move");
    assert.deepEqual(await identity(), podsBefore, "no pod was restarted or replaced");
    const lost = await lostWrites(after.status!.masterIP!, report.acks);
    assert.deepEqual(lost, [], "no acknowledged write lost");
    const replication = await redisCli(after.status!.masterIP!, "INFO", "replication");
    assert.match(replication, /connected_slaves:2/);
    assert.match(
      await k("get", "events", "-o", "jsonpath={.items[*].message}"),
      /Password added on 3 instances without a restart.*Password removed on 3 instances|Password removed on 3 instances.*Password added on 3 instances/,
    );
    console.log(
      `password added and removed live: ${report.acks.length} writes acknowledged, ${report.failures} refused, 0 lost`,
    );
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("a password Secret named like the operator's own copy is refused, and a foreign one is never overwritten", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("collide");
  const k = (...args: string[]) => kubectl(["-n", ns.name, ...args]);
  try {
    await k("create", "secret", "generic", "redis-mine", "--from-literal=password=users-own");
    const refused = await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest("mine", {
        password: { secretKeyRef: { name: "redis-mine", key: "password" } },
      }),
    ).then(() => "accepted", (error) => String(error));
    assert.match(refused, /must not name the operator's own Secret/);

    // Without spec.password the user's Secret of that name is still not the operator's.
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("mine"));
    const degraded = await waitFor("the SecretConflict condition", async () => {
      const status = JSON.parse(await k("get", "redis", "mine", "-o", "json")).status;
      return status?.conditions?.find((c: { type: string; status: string }) =>
        c.type === "Degraded" && c.status === "True"
      );
    });
    assert.equal(degraded.reason, "SecretConflict");
    const secret = JSON.parse(await k("get", "secret", "redis-mine", "-o", "json"));
    assert.equal(secret.metadata.ownerReferences, undefined, "not adopted");
    assert.equal(atob(secret.data.password), "users-own", "not overwritten");
    assert.equal(await k("get", "statefulset", "-o", "name"), "", "no pods read the user's Secret");
  } finally {
    await ns.remove();
    client.close();
  }
});
