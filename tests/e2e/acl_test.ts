/**
 * ACL users (issue 11, spec.acl): the operator talks to Redis as its own user
 * (no key), replicas sync as their own user, application users from the spec
 * are applied live on every instance, survive a process restart and a
 * failover, and go when dropped; a rule Redis refuses is reported and never
 * breaks a pod's start; the default user can be turned off; and the
 * operator's passwords appear in no ConfigMap, Event, status or log line.
 * spec.acl is also added to and removed from a running Redis, live.
 */
import assert from "node:assert/strict";
import {
  clusterClient,
  fault,
  kubectl,
  kubectlStatus,
  redisCli,
  testNamespace,
  waitFor,
} from "../cluster/helpers.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "./operator.ts";

interface PodView {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  status: { podIP: string; containerStatuses?: Array<{ name: string; restartCount: number }> };
}

/** Helpers bound to one namespace and Redis. */
function within(namespace: string, redis: string) {
  const k = (...args: string[]) => kubectl(["-n", namespace, ...args]);
  const pods = async () =>
    (JSON.parse(await k("get", "pods", "-l", `redis=${redis}`, "-o", "json")).items as PodView[])
      .filter((p) => p.status.podIP);
  const secretValue = async (secret: string, key: string) =>
    atob(await k("get", "secret", secret, "-o", `jsonpath={.data.${key.replaceAll(".", "\\.")}}`));
  const as = (user: string, password: string) => [
    "--user",
    user,
    "--pass",
    password,
    "--no-auth-warning",
  ];
  /** restartCount and uid of every pod: a restart or a replacement changes it. */
  const identity = async () =>
    (await pods()).map((p) =>
      `${p.metadata.name}/${p.metadata.uid}/${
        p.status.containerStatuses?.find((c) => c.name === "redis")?.restartCount
      }`
    ).sort();
  /** Patches the Redis: a merge patch of an object, or a JSON patch of a list of operations. */
  const patch = (body: Record<string, unknown> | unknown[]) =>
    k(
      "patch",
      "redis",
      redis,
      `--type=${Array.isArray(body) ? "json" : "merge"}`,
      "-p",
      JSON.stringify(body),
    );
  return { k, pods, secretValue, as, identity, patch };
}

Deno.test("spec.acl: the operator's own user, a replication user, application users applied live through a restart and a failover", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("acl");
  const n = ns.name;
  const { k, pods, secretValue, as, identity, patch } = within(n, "users");
  try {
    await k("create", "secret", "generic", "default-pw", "--from-literal=pw=default-password");
    await k("create", "secret", "generic", "app-pw", "--from-literal=pw=app-password");
    const spec = (users: unknown[]) => ({
      password: { secretKeyRef: { name: "default-pw", key: "pw" } },
      exporter: { image: "oliver006/redis_exporter:v1.45.0" },
      acl: { disableDefaultUser: true, users },
    });
    const app = (rules: string) => ({
      name: "app",
      password: { secretKeyRef: { name: "app-pw", key: "pw" } },
      rules,
    });
    // Refused at apply time: a password in the rules, a reserved name.
    for (
      const [user, refusal] of [
        [app("~app:* >secret"), /must not set passwords/],
        [app('~app"x +@all'), /without quotes, backslashes or control characters/],
        [
          { ...app("~*"), name: "redis-operator" },
          /default and redis-operator\* are the operator's/,
        ],
      ] as const
    ) {
      const { code, stderr } = await kubectlStatus(
        ["-n", n, "apply", "-f", "-"],
        redisManifest("users", spec([user])),
      );
      assert.notEqual(code, 0);
      assert.match(stderr, refusal);
    }
    await kubectl(
      ["-n", n, "apply", "-f", "-"],
      redisManifest("users", spec([app("~app:* +@all -@dangerous")])),
    );
    const ready = await waitForReady(client, n, "users", 3, 120_000);
    const operator = await secretValue("redis-users-acl", "operator-password");
    const replication = await secretValue("redis-users-acl", "replication-password");
    const exporter = await secretValue("redis-users-acl", "exporter-password");
    const op = as("redis-operator", operator);
    const appUser = as("app", "app-password");
    let masterIP = ready.status!.masterIP!;

    // Ready with the default user off: the operator observed and configured every
    // instance as its own user, which reads no key.
    assert.equal(await redisCli(masterIP, ...appUser, "SET", "app:1", "kept"), "OK");
    assert.match(await redisCli(masterIP, ...appUser, "SET", "other", "x"), /NOPERM/);
    assert.match(
      await redisCli(masterIP, "-a", "default-password", "--no-auth-warning", "PING"),
      /WRONGPASS|NOAUTH/,
    );
    assert.match(await redisCli(masterIP, ...op, "GET", "app:1"), /NOPERM/);
    assert.match(await redisCli(masterIP, ...op, "INFO", "replication"), /connected_slaves:2/);
    // Replicas authenticate as the replication user; the exporter reads as its own.
    const replicaLinks = await redisCli(
      masterIP,
      ...as("redis-operator-exporter", exporter),
      "CLIENT",
      "LIST",
      "TYPE",
      "replica",
    );
    assert.equal(replicaLinks.match(/user=redis-operator-replication /g)?.length, 2, replicaLinks);
    const metrics = await (await fetch(`http://${masterIP}:9121/metrics`)).text();
    assert.match(metrics, /^redis_up 1$/m);
    assert.match(metrics, /^redis_connected_slaves 2$/m);
    // The exporter's user cannot read the passwords in the configuration.
    assert.match(
      await redisCli(masterIP, ...as("redis-operator-exporter", exporter), "CONFIG", "GET", "*"),
      /NOPERM/,
    );

    // Rules changed in the spec reach every instance live, with no restart.
    const before = await identity();
    await patch({ spec: spec([app("~app:* ~more:* +@all -@dangerous")]) });
    await waitFor("the new rules on every instance", async () => {
      for (const pod of await pods()) {
        const list = await redisCli(pod.status.podIP, ...op, "ACL", "LIST");
        if (!list.includes("~more:*")) return undefined;
      }
      return true;
    }, 30_000);
    assert.equal(await redisCli(masterIP, ...appUser, "SET", "more:1", "x"), "OK");
    assert.deepEqual(await identity(), before, "no pod restarted");

    // A rule Redis refuses: reported with Redis's words and an Event; the others stay.
    await k("create", "secret", "generic", "bad-pw", "--from-literal=pw=bad-password");
    const bad = {
      name: "bad",
      password: { secretKeyRef: { name: "bad-pw", key: "pw" } },
      rules: "~* +nosuchcommand",
    };
    await patch({ spec: spec([app("~app:* ~more:* +@all -@dangerous"), bad]) });
    const refused = await waitFor("the refused rule in the status", async () => {
      const redis = await getRedis(client, n, "users");
      const degraded = redis.status?.conditions?.find((c) => c.type === "Degraded");
      return degraded?.reason === "ACLRuleInvalid" ? degraded : undefined;
    }, 30_000);
    assert.match(refused.message ?? "", /spec\.acl\.users bad: .*nosuchcommand/);
    await waitFor(
      "an ACLRuleInvalid Event",
      async () =>
        (await k("get", "events", "-o", "jsonpath={.items[*].reason}")).includes(
          "ACLRuleInvalid",
        ) ||
        undefined,
    );
    assert.equal(
      (await getRedis(client, n, "users")).status?.conditions?.find((c) => c.type === "Ready")
        ?.status,
      "True",
      "an application user's rule does not make the Redis unready",
    );
    assert.doesNotMatch(await secretValue("redis-users-acl", "acl.conf"), /user bad /);

    // A killed process restarts with the users (the pods' start lines) and syncs as the
    // replication user; the refused user cannot keep it from starting.
    const replica = (await pods()).find((p) => p.status.podIP !== masterIP)!;
    await fault("kill", n, replica.metadata.name);
    await waitFor("the killed replica back and in sync", async () => {
      const info = await redisCli(masterIP, ...op, "INFO", "replication").catch(() => "");
      const back = await redisCli(replica.status.podIP, ...appUser, "GET", "app:1")
        .catch(() => "");
      return /connected_slaves:2/.test(info) && back === "kept" || undefined;
    }, 60_000);

    // The operator's Secret deleted by hand while no operator runs: written back with the
    // same passwords (from their backup in redis-users), which the running instances hold
    // (the failover below needs them).
    const operatorDeployment = ["-n", "redis-operator", "deployment/redis-operator"];
    await kubectl(["scale", ...operatorDeployment, "--replicas=0"]);
    await waitFor("no operator pod", async () =>
      (await kubectl([
          "-n",
          "redis-operator",
          "get",
          "pods",
          "-l",
          "app.kubernetes.io/name=redis-operator",
          "-o",
          "name",
        ])).trim() === "" || undefined, 60_000);
    await k("delete", "secret", "redis-users-acl");
    await kubectl(["scale", ...operatorDeployment, "--replicas=2"]);
    await deployOperator(client);
    assert.equal(
      await waitFor(
        "the operator's Secret written back",
        () => secretValue("redis-users-acl", "operator-password").catch(() => undefined),
        30_000,
      ),
      operator,
    );

    // A failover: the new master has the users too (every instance was given them).
    const oldMaster = ready.status!.master!;
    await k("delete", "pod", oldMaster, "--wait=false");
    const moved = await waitFor("a new master", async () => {
      const redis = await getRedis(client, n, "users");
      return redis.status?.master && redis.status.master !== oldMaster ? redis : undefined;
    }, 60_000);
    masterIP = moved.status!.masterIP!;
    assert.equal(await redisCli(masterIP, ...appUser, "GET", "app:1"), "kept");
    assert.equal(await redisCli(masterIP, ...appUser, "SET", "app:2", "after"), "OK");

    // A user made by hand is not the operator's to remove. Made once the deleted pod's
    // replacement runs: made on the old process, it would go with it.
    await waitFor("the deleted master's pod replaced", async () => {
      const now = await pods();
      return now.length === 3 && now.every((p) => !p.metadata.deletionTimestamp) &&
          now.some((p) => p.metadata.name === oldMaster) || undefined;
    }, 120_000);
    await waitForReady(client, n, "users", 3, 120_000);
    for (const pod of await pods()) {
      await redisCli(pod.status.podIP, ...op, "ACL", "SETUSER", "ops", "on", ">ops-pw", "+info");
    }
    // Dropped from the spec: gone from every instance. The bad user goes with it.
    await patch([{ op: "replace", path: "/spec/acl/users", value: [] }]);
    await waitForReady(client, n, "users", 3, 120_000);
    await waitFor("app removed from every instance", async () => {
      for (const pod of await pods()) {
        const users = await redisCli(pod.status.podIP, ...op, "ACL", "USERS").catch(() => "app");
        if (/^(app|bad)$/m.test(users) || !/^ops$/m.test(users)) {
          throw new Error(`${pod.metadata.name} has users ${users.split("\n").join(", ")}`);
        }
      }
      return true;
    }, 30_000);
    await waitFor("the Degraded condition cleared", async () => {
      const redis = await getRedis(client, n, "users");
      return redis.status?.conditions?.find((c) => c.type === "Degraded")?.status === "False" ||
        undefined;
    }, 30_000);

    // The operator's passwords appear in no ConfigMap, Event, status or log line.
    const places = [
      await k("get", "configmaps", "-o", "json"),
      await k("get", "events", "-o", "json"),
      await k("get", "redis", "-o", "json"),
      await k("get", "pods", "-o", "json"),
      await kubectl([
        "-n",
        "redis-operator",
        "logs",
        "-l",
        "app.kubernetes.io/name=redis-operator",
        "--tail=-1",
      ]),
    ].join("\n");
    for (const secret of [operator, replication, exporter, "app-password"]) {
      assert.ok(!places.includes(secret), "a password leaked");
    }
  } finally {
    await ns.remove();
  }
});

Deno.test("spec.acl added to a running Redis and removed again, live, with replication kept", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("acl-toggle");
  const n = ns.name;
  const { k, pods, secretValue, as, identity, patch } = within(n, "toggle");
  const withDefault = ["-a", "default-password", "--no-auth-warning"];
  try {
    await k("create", "secret", "generic", "default-pw", "--from-literal=pw=default-password");
    await k("create", "secret", "generic", "app-pw", "--from-literal=pw=app-password");
    const password = { secretKeyRef: { name: "default-pw", key: "pw" } };
    await kubectl(["-n", n, "apply", "-f", "-"], redisManifest("toggle", { password }));
    const ready = await waitForReady(client, n, "toggle");
    const masterIP = ready.status!.masterIP!;
    assert.equal(await redisCli(masterIP, ...withDefault, "SET", "kept", "yes"), "OK");
    const before = await identity();

    // "ghost"'s Secret does not exist: it is reported and left alone, the rest goes on.
    const acl = (disableDefaultUser: boolean) => ({
      disableDefaultUser,
      users: ["app", "ghost"].map((name) => ({
        name,
        password: { secretKeyRef: { name: `${name}-pw`, key: "pw" } },
        rules: "~* +@all",
      })),
    });
    await patch({
      spec: { acl: acl(false) },
    });
    const operator = await waitFor(
      "the operator's passwords",
      () => secretValue("redis-toggle-acl", "operator-password").catch(() => undefined),
      30_000,
    );
    const op = as("redis-operator", operator);
    await waitFor("every instance with the users, replicas syncing as their own user", async () => {
      for (const pod of await pods()) {
        const ip = pod.status.podIP;
        const user = await redisCli(ip, ...op, "CONFIG", "GET", "masteruser").catch(() => "");
        const app = await redisCli(ip, ...as("app", "app-password"), "GET", "kept")
          .catch(() => "");
        if (!user.endsWith("redis-operator-replication") || app !== "yes") return undefined;
      }
      return true;
    }, 30_000);
    const ghost = (await getRedis(client, n, "toggle")).status?.conditions?.find((c) =>
      c.type === "Degraded"
    );
    assert.equal(ghost?.reason, "SecretNotFound", JSON.stringify(ghost));
    assert.match(ghost?.message ?? "", /ghost-pw not found \(spec\.acl\.users ghost/);
    // The default user's password rotated under spec.acl: replication keeps its own user.
    const rotated = ["-a", "rotated-password", "--no-auth-warning"];
    const setDefaultPassword = async (password: string) =>
      await kubectl(
        ["-n", n, "apply", "-f", "-"],
        await k(
          "create",
          "secret",
          "generic",
          "default-pw",
          `--from-literal=pw=${password}`,
          "--dry-run=client",
          "-o",
          "yaml",
        ),
      );
    await setDefaultPassword("rotated-password");
    await waitFor("every instance on the rotated password only", async () => {
      for (const pod of await pods()) {
        const fresh = await redisCli(pod.status.podIP, ...rotated, "PING").catch(() => "");
        const stale = await redisCli(pod.status.podIP, ...withDefault, "PING").catch(() => "");
        if (fresh !== "PONG" || !/WRONGPASS|NOAUTH/.test(stale)) return undefined;
      }
      return true;
    }, 30_000);
    for (const pod of await pods()) {
      const user = await redisCli(pod.status.podIP, ...op, "CONFIG", "GET", "masteruser");
      assert.ok(user.endsWith("redis-operator-replication"), user);
    }
    assert.match(await redisCli(masterIP, ...op, "INFO", "replication"), /connected_slaves:2/);
    // A replica's process restarted now starts with the rotated password, and syncs.
    const replica = (await pods()).find((p) => p.status.podIP !== masterIP)!;
    await fault("kill", n, replica.metadata.name);
    await waitFor("the killed replica back with the rotated password, in sync", async () => {
      const pong = await redisCli(replica.status.podIP, ...rotated, "PING").catch(() => "");
      const info = await redisCli(masterIP, ...op, "INFO", "replication").catch(() => "");
      return pong === "PONG" && /connected_slaves:2/.test(info) || undefined;
    }, 60_000);
    await setDefaultPassword("default-password");
    await waitFor("the first password back", async () => {
      const reply = await redisCli(masterIP, ...withDefault, "PING").catch(() => "");
      return reply === "PONG" || undefined;
    }, 30_000);
    await patch({
      spec: { acl: acl(true) },
    });
    await waitFor("the default user off everywhere", async () => {
      for (const pod of await pods()) {
        const reply = await redisCli(pod.status.podIP, ...withDefault, "PING").catch(() => "");
        if (!/WRONGPASS|NOAUTH/.test(reply)) return undefined;
      }
      return true;
    }, 30_000);
    assert.match(await redisCli(masterIP, ...op, "INFO", "replication"), /connected_slaves:2/);
    // A user made by hand stays when spec.acl goes.
    await redisCli(masterIP, ...op, "ACL", "SETUSER", "ops", "on", ">ops-pw", "+info");

    await patch([
      { op: "remove", path: "/spec/acl" },
    ]);
    await waitFor("every instance back to the default user alone", async () => {
      for (const pod of await pods()) {
        const ip = pod.status.podIP;
        const users = await redisCli(ip, ...withDefault, "ACL", "USERS").catch(() => "");
        const user = await redisCli(ip, ...withDefault, "CONFIG", "GET", "masteruser")
          .catch(() => "");
        if (
          !/^default$/m.test(users) ||
          /^(app|redis-operator(-replication|-exporter)?)$/m.test(users)
        ) return undefined;
        if (ip === masterIP && !/^ops$/m.test(users)) return undefined;
        if (user.trim() !== "masteruser") return undefined;
      }
      return true;
    }, 30_000);
    assert.doesNotMatch(
      await k("get", "secret", "redis-toggle-acl", "-o", "jsonpath={.data}"),
      /acl\.conf/,
      "pods restart without spec.acl's users",
    );
    await waitForReady(client, n, "toggle");
    assert.match(
      await redisCli(masterIP, ...withDefault, "INFO", "replication"),
      /connected_slaves:2/,
    );
    assert.equal(await redisCli(masterIP, ...withDefault, "GET", "kept"), "yes");
    assert.deepEqual(
      (await identity()).filter((p) => !p.startsWith(replica.metadata.name)),
      before.filter((p) => !p.startsWith(replica.metadata.name)),
      "no other pod restarted or replaced",
    );
  } finally {
    await ns.remove();
  }
});

Deno.test("a new Redis with spec.acl whose password Secret comes later never starts without it", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("acl-late");
  const n = ns.name;
  const { k, pods } = within(n, "late");
  try {
    await kubectl(
      ["-n", n, "apply", "-f", "-"],
      redisManifest("late", {
        password: { secretKeyRef: { name: "late-pw", key: "pw" } },
        acl: { users: [] },
      }),
    );
    await waitFor("the missing Secret reported", async () => {
      const redis = await getRedis(client, n, "late");
      return redis.status?.conditions?.some((c) => c.reason === "SecretNotFound") || undefined;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(
      (await k("get", "statefulsets", "-o", "name")).trim(),
      "",
      "no pods before the password can be read",
    );
    await k("create", "secret", "generic", "late-pw", "--from-literal=pw=late-password");
    const ready = await waitForReady(client, n, "late");
    for (const pod of await pods()) {
      assert.match(await redisCli(pod.status.podIP, "PING"), /NOAUTH/);
    }
    assert.equal(
      await redisCli(ready.status!.masterIP!, "-a", "late-password", "--no-auth-warning", "PING"),
      "PONG",
    );
  } finally {
    await ns.remove();
  }
});
