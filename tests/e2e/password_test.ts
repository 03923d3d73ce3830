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
    const oldUid = (await pods()).find((p) => p.metadata.name === oldMaster)!.metadata.uid;
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
    await waitFor("the recreated pod to hold the key", async () => {
      const back = (await pods()).find((p) =>
        p.metadata.name === oldMaster && p.metadata.uid !== oldUid && p.status.podIP
      );
      if (!back) return undefined;
      const value = await redisCli(
        back.status.podIP,
        ...withPassword("second-password"),
        "GET",
        "kept",
      )
        .catch(() => "");
      return value === "yes" ? true : undefined;
    }, 60_000);
    assert.equal(
      await redisCli(moved.status!.masterIP!, ...withPassword("second-password"), "GET", "kept"),
      "yes",
    );
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("a Redis that refuses the rotation is reported Degraded with an Event, keeps working, and rotates once it accepts", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("refuse");
  const k = (...args: string[]) => kubectl(["-n", ns.name, ...args]);
  const auth = (password: string) => ["-a", password, "--no-auth-warning"];
  const ips = async () =>
    (await k("get", "pods", "-l", "redis=stubborn", "-o", "jsonpath={.items[*].status.podIP}"))
      .split(" ").filter(Boolean);
  try {
    await k("create", "secret", "generic", "stubborn-auth", "--from-literal=pw=old-password");
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest("stubborn", {
        password: { secretKeyRef: { name: "stubborn-auth", key: "pw" } },
      }),
    );
    const before = await waitForReady(client, ns.name, "stubborn");
    await redisCli(before.status!.masterIP!, ...auth("old-password"), "SET", "kept", "yes");
    // The default user may no longer run ACL commands on any instance: the rotation's first
    // step will be refused. An admin user of the test's own puts that right later.
    const admin = ["--user", "admin", "--pass", "admin-password", "--no-auth-warning"];
    for (const ip of await ips()) {
      await redisCli(
        ip,
        ...auth("old-password"),
        "ACL",
        "SETUSER",
        "admin",
        "on",
        ">admin-password",
        "~*",
        "&*",
        "+@all",
      );
      assert.equal(await redisCli(ip, ...admin, "ACL", "SETUSER", "default", "-acl"), "OK");
    }
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      await k(
        "create",
        "secret",
        "generic",
        "stubborn-auth",
        "--from-literal=pw=new-password",
        "--dry-run=client",
        "-o",
        "yaml",
      ),
    );
    const degraded = await waitFor("the Degraded condition", async () => {
      const redis = await getRedis(client, ns.name, "stubborn");
      return redis.status?.conditions?.find((c) =>
        c.type === "Degraded" && c.status === "True" && c.reason === "RedisCommandFailed"
      );
    }, 60_000);
    assert.match(degraded.message ?? "", /Password rotation: Redis refused a command: .*NOPERM/);
    assert.match(
      await k("get", "events", "--field-selector", "reason=RedisCommandFailed", "-o", "name"),
      /event/,
    );
    for (const ip of await ips()) {
      assert.equal(await redisCli(ip, ...auth("old-password"), "PING"), "PONG", "still usable");
    }

    for (const ip of await ips()) {
      assert.equal(await redisCli(ip, ...admin, "ACL", "SETUSER", "default", "+acl"), "OK");
    }
    await waitFor("the rotation once the instances accept it", async () => {
      for (const ip of await ips()) {
        if (await redisCli(ip, ...auth("new-password"), "PING") !== "PONG") return undefined;
        if (!/NOAUTH|WRONGPASS/.test(await redisCli(ip, ...auth("old-password"), "PING"))) {
          return undefined;
        }
      }
      const redis = await getRedis(client, ns.name, "stubborn");
      return redis.status?.conditions?.some((c) => c.type === "Degraded" && c.status === "False")
        ? true
        : undefined;
    }, 60_000);
    const after = await waitForReady(client, ns.name, "stubborn");
    assert.equal(
      await redisCli(after.status!.masterIP!, ...auth("new-password"), "GET", "kept"),
      "yes",
    );
  } finally {
    await ns.remove();
    client.close();
  }
});
