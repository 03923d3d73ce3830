/**
 * Password rotation: the user changes the password Secret; every running
 * instance moves to the new password without a restart, without a change of
 * master and without losing a key; the old password stops working. A pod
 * started before the rotation is still handed over properly when deleted.
 */
import assert from "node:assert/strict";
import { clusterClient, kubectl, redisCli, testNamespace, waitFor } from "../cluster/helpers.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "./operator.ts";

Deno.test("a changed password is rotated on every instance without a restart or a lost key", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("rotate");
  const k = (...args: string[]) => kubectl(["-n", ns.name, ...args]);
  const withPassword = (password: string) => ["-a", password, "--no-auth-warning"];
  const pods = async () =>
    JSON.parse(await k("get", "pods", "-l", "redis=vault", "-o", "json")).items as Array<{
      metadata: { name: string; uid: string };
      status: { podIP: string; containerStatuses?: Array<{ restartCount: number }> };
    }>;
  const identity = async () =>
    (await pods()).map((p) =>
      `${p.metadata.name}/${p.metadata.uid}/${p.status.containerStatuses?.[0]?.restartCount}`
    ).sort();
  try {
    await k("create", "secret", "generic", "vault-auth", "--from-literal=pw=first-password");
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest("vault", { password: { secretKeyRef: { name: "vault-auth", key: "pw" } } }),
    );
    const before = await waitForReady(client, ns.name, "vault");
    const masterIP = before.status!.masterIP!;
    assert.equal(
      await redisCli(masterIP, ...withPassword("first-password"), "SET", "kept", "yes"),
      "OK",
    );
    const podsBefore = await identity();

    const secret = await k(
      "create",
      "secret",
      "generic",
      "vault-auth",
      "--from-literal=pw=second-password",
      "--dry-run=client",
      "-o",
      "yaml",
    );
    await kubectl(["-n", ns.name, "apply", "-f", "-"], secret);

    await waitFor("every instance to take only the new password", async () => {
      for (const pod of await pods()) {
        const ip = pod.status.podIP;
        const fresh = await redisCli(ip, ...withPassword("second-password"), "PING");
        const stale = await redisCli(ip, ...withPassword("first-password"), "PING");
        if (fresh !== "PONG" || !/NOAUTH|WRONGPASS/.test(stale)) return undefined;
      }
      const copy = await k("get", "secret", "redis-vault", "-o", "jsonpath={.data}");
      return copy.includes("previous-password") ? undefined : true;
    }, 60_000);
    const after = await waitForReady(client, ns.name, "vault");
    assert.equal(after.status!.master, before.status!.master, "the master did not move");
    assert.deepEqual(await identity(), podsBefore, "no pod was restarted or replaced");
    assert.equal(
      await redisCli(masterIP, ...withPassword("second-password"), "GET", "kept"),
      "yes",
    );
    const replication = await redisCli(
      masterIP,
      ...withPassword("second-password"),
      "INFO",
      "replication",
    );
    assert.match(replication, /connected_slaves:2/);
    assert.match(
      await k("get", "events", "-o", "jsonpath={.items[*].reason}"),
      /PasswordRotating.*PasswordRotated|PasswordRotated.*PasswordRotating/,
    );

    // The master's pod, started with the old password, is deleted: the operator hands
    // over first (the hook's part is tested in tests/redis/pod_scripts_test.ts); the pod
    // that replaces it starts with the new password and syncs.
    const oldMaster = after.status!.master!;
    await k("delete", "pod", oldMaster, "--wait=false");
    const moved = await waitFor("a handover", async () => {
      const now = await getRedis(client, ns.name, "vault");
      return now.status?.master && now.status.master !== oldMaster ? now : undefined;
    }, 60_000);
    assert.match(
      await k(
        "get",
        "events",
        "--field-selector",
        "reason=MasterChanged",
        "-o",
        "jsonpath={.items[*].message}",
      ),
      new RegExp(`planned handover from ${oldMaster} \\(its pod is being deleted\\)`),
    );
    await waitForReady(client, ns.name, "vault", 3, 90_000);
    const back = (await pods()).find((p) => p.metadata.name === oldMaster)!;
    await waitFor(
      "the recreated pod to hold the key",
      async () =>
        await redisCli(back.status.podIP, ...withPassword("second-password"), "GET", "kept") ===
            "yes"
          ? true
          : undefined,
    );
    assert.equal(
      await redisCli(moved.status!.masterIP!, ...withPassword("second-password"), "GET", "kept"),
      "yes",
    );
  } finally {
    await ns.remove();
    client.close();
  }
});
