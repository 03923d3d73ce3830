/**
 * What the operator owns and how it keeps it: every object with its owner
 * reference, repair after edits and deletes, no writes when nothing changed,
 * refused invalid resources, a missing Secret reported.
 */
import assert from "node:assert/strict";
import { trickSpellings } from "../fixtures/directive_spellings.ts";
import { clusterClient, kubectl, redisCli, testNamespace, waitFor } from "../cluster/helpers.ts";
import {
  successfulPasses,
  waitForOnlyRedis,
  waitForQuietWrites,
  writesBetween,
} from "./api_writes.ts";
import {
  deployOperator,
  getRedis,
  leaderPod,
  redisManifest,
  scrapeMetrics,
  waitForReady,
} from "./operator.ts";

Deno.test("owned objects: created with owner references, repaired, left alone when in line", async (t) => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("own");
  const k = (...args: string[]) => kubectl(["-n", ns.name, ...args]);
  /** The addresses in every EndpointSlice of the master Service, whoever wrote it. */
  const masterEndpoints = () =>
    k(
      "get",
      "endpointslices",
      "-l",
      "kubernetes.io/service-name=redis-cache-master",
      "-o",
      "jsonpath={.items[*].endpoints[*].addresses[*]}",
    );
  try {
    await k("create", "secret", "generic", "cache-auth", "--from-literal=pw=hunter2");
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest("cache", { password: { secretKeyRef: { name: "cache-auth", key: "pw" } } }),
    );
    const redis = await waitForReady(client, ns.name, "cache");

    await t.step("every object exists and is owned by the Redis", async () => {
      const expected = [
        "configmap/redis-cache",
        "secret/redis-cache",
        "service/redis-cache",
        "service/redis-cache-headless",
        "service/redis-cache-master",
        "service/redis-cache-replica",
        "statefulset.apps/redis-cache",
        "poddisruptionbudget.policy/redis-cache",
        "endpointslice.discovery.k8s.io/redis-cache-master",
      ];
      for (const object of expected) {
        const owners = JSON.parse(
          await k("get", object, "-o", "jsonpath={.metadata.ownerReferences}"),
        );
        assert.deepEqual(
          owners.map((
            o: { kind: string; uid: string; controller: boolean },
          ) => [o.kind, o.uid, o.controller]),
          [["Redis", redis.metadata!.uid, true]],
          object,
        );
      }
      const config = await k("get", "configmap", "redis-cache", "-o", "json");
      assert.doesNotMatch(config, /hunter2/, "the password never goes into the ConfigMap");
      assert.match(await redisCli(redis.status!.masterIP!, "PING"), /NOAUTH/);
      assert.equal(
        await redisCli(redis.status!.masterIP!, "-a", "hunter2", "--no-auth-warning", "PING"),
        "PONG",
      );
      // The master Service has no selector: the operator writes its one EndpointSlice.
      assert.equal(
        await k("get", "service", "redis-cache-master", "-o", "jsonpath={.spec.selector}"),
        "",
      );
      assert.equal(
        await masterEndpoints(),
        redis.status!.masterIP,
      );
    });

    await t.step("a pass that finds nothing to change writes nothing", async () => {
      // This Redis has a password, so its Secret is compared too; no_write_test.ts covers
      // the default spec, the example and optional fields.
      await waitForOnlyRedis([`${ns.name}/cache`]);
      const leader = (await leaderPod(client))!;
      await waitForQuietWrites(() => scrapeMetrics(leader), [ns.name]);
      const before = await scrapeMetrics(leader);
      await new Promise((r) => setTimeout(r, 12_000));
      const after = await scrapeMetrics(leader);
      const passes = successfulPasses(after) - successfulPasses(before);
      assert.ok(passes >= 2, `passes ran: ${passes}`);
      assert.deepEqual(writesBetween(before, after), {}, "no create, patch, update or delete");
    });

    await t.step("an edited or deleted object is brought back", async () => {
      await k(
        "patch",
        "service",
        "redis-cache-master",
        "--type=merge",
        "-p",
        '{"spec":{"selector":{"role":"master"}}}',
      );
      await k(
        "patch",
        "endpointslice",
        "redis-cache-master",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/endpoints/0/addresses/0","value":"198.18.255.254"}]',
      );
      await k("delete", "configmap", "redis-cache");
      await k(
        "patch",
        "poddisruptionbudget",
        "redis-cache",
        "--type=merge",
        "-p",
        '{"spec":{"maxUnavailable":3}}',
      );
      await waitFor("the repairs", async () => {
        const selector = await k(
          "get",
          "service",
          "redis-cache-master",
          "-o",
          "jsonpath={.spec.selector}",
        );
        // The selector made the EndpointSlice controller write a slice of its own: it goes too.
        const endpoints = await masterEndpoints();
        const config = await k(
          "get",
          "configmap",
          "redis-cache",
          "-o",
          "name",
          "--ignore-not-found",
        );
        const pdb = await k(
          "get",
          "poddisruptionbudget",
          "redis-cache",
          "-o",
          "jsonpath={.spec.maxUnavailable}",
        );
        return selector === "" && endpoints === redis.status!.masterIP && config.trim() &&
            pdb === "1"
          ? true
          : undefined;
      }, 30_000);
      const masterIP = await k("get", "configmap", "redis-cache", "-o", "jsonpath={.data.master}");
      assert.equal(
        masterIP,
        (await getRedis(client, ns.name, "cache")).status?.masterIP,
        "the master address is recorded again",
      );
    });
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("invalid resources are refused with a message a person understands", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("invalid");
  const apply = (manifest: string) =>
    kubectl(["-n", ns.name, "apply", "-f", "-"], manifest).then(
      () => "accepted",
      (error) => String(error),
    );
  try {
    assert.match(
      await apply(redisManifest("one", { replicas: 1 })),
      /spec\.replicas.*should be greater than or equal to 3/,
    );
    assert.match(
      await apply(redisManifest("forbidden", { config: { maxmemory: "1gb", port: "7000" } })),
      /spec\.config must not set directives the operator manages: port, bind/,
    );
    // Spellings Redis reads as a managed directive (issue 8, item 1): the tab key
    // switched fencing off before, since CEL compared the raw key.
    for (const name of ["min-replicas-max-lag", "replicaof", "requirepass", "rename-command"]) {
      for (const spelling of trickSpellings(name)) {
        assert.match(
          await apply(redisManifest("tricked", { config: { [spelling]: "0" } })),
          /spec\.config names must be lowercase redis\.conf directives/,
          JSON.stringify(spelling),
        );
      }
    }
    // Fencing that refuses every write (issue 8, item 9), and a replica that can never be
    // promoted on every instance.
    assert.match(
      await apply(redisManifest("fenced", { replicas: 3, failover: { minReplicasToWrite: 3 } })),
      /minReplicasToWrite must be below spec\.replicas/,
    );
    assert.match(
      await apply(redisManifest("stuck", { config: { "replica-priority": "0" } })),
      /spec\.config must not set directives the operator manages: .*replica-priority/,
    );
    assert.match(
      await apply(JSON.stringify({ ...JSON.parse(redisManifest("typo")), sepc: {} })),
      /unknown field "sepc"/,
    );
    assert.match(
      await apply(redisManifest("typo2", { replcias: 3 })),
      /unknown field "spec\.replcias"/,
    );
    assert.equal(
      await kubectl(["-n", ns.name, "get", "redis", "-o", "name"]),
      "",
      "nothing was created",
    );
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("a missing password Secret becomes a Degraded condition and an Event, then heals", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("nosecret");
  const k = (...args: string[]) => kubectl(["-n", ns.name, ...args]);
  try {
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest("locked", { password: { secretKeyRef: { name: "missing", key: "pw" } } }),
    );
    const degraded = await waitFor("the Degraded condition", async () => {
      const redis = await getRedis(client, ns.name, "locked");
      return redis.status?.conditions?.find((c) => c.type === "Degraded" && c.status === "True");
    });
    assert.equal(degraded.reason, "SecretNotFound");
    assert.match(degraded.message, /Secret missing not found/);
    const events = await waitFor("a Warning Event", async () => {
      const text = await k(
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=Redis,reason=SecretNotFound",
        "-o",
        "jsonpath={.items[*].message}",
      );
      return text.includes("Secret missing not found") ? text : undefined;
    });
    assert.ok(events);
    assert.equal(
      await k("get", "statefulset", "-o", "name"),
      "",
      "no pods run without their password",
    );
    await k("create", "secret", "generic", "missing", "--from-literal=pw=s3cret");
    await waitForReady(client, ns.name, "locked");
  } finally {
    await ns.remove();
    client.close();
  }
});
