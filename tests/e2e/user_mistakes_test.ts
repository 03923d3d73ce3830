/**
 * Mistakes users make show up where they look (issue 11):
 * - values every Redis reads the same way (`maxmemory: lots`) and an absurd
 *   `replicas` are refused by the API server, with what they should be;
 * - a value only Redis can judge makes the rolled pod crash-loop: the Redis
 *   says so (Degraded, PodCrashLooping) with redis-server's own message, and
 *   an Event; an image that cannot be pulled and a pod no node can take
 *   likewise;
 * - once the spec is fixed, the broken pod (which the OnDelete StatefulSet
 *   would keep) is replaced and the Redis is Ready again.
 */
import assert from "node:assert/strict";
import type { Event } from "kubernetes-types/core/v1.d.ts";
import type { Redis } from "../../src/api/redis.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import {
  clusterClient,
  kubectl,
  kubectlStatus,
  testNamespace,
  waitFor,
} from "../cluster/helpers.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "./operator.ts";

Deno.test("refused at apply time: a config value every Redis reads the same way, too many replicas", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("mistakes-apply");
  const n = ns.name;
  try {
    const lots = await kubectlStatus(
      ["-n", n, "apply", "-f", "-"],
      redisManifest("lots", { config: { maxmemory: "lots" } }),
    );
    assert.notEqual(lots.code, 0);
    assert.match(lots.stderr, /spec.config maxmemory must be a size in bytes/);

    const many = await kubectlStatus(
      ["-n", n, "apply", "-f", "-"],
      redisManifest("many", { replicas: 100000 }),
    );
    assert.notEqual(many.code, 0);
    assert.match(many.stderr, /spec.replicas: Invalid value: 100000: .*less than or equal to 32/);

    await kubectl(["-n", n, "apply", "-f", "-"], redisManifest("fine"));
    const scaled = await kubectlStatus(["-n", n, "scale", "redis", "fine", "--replicas", "500"]);
    assert.notEqual(scaled.code, 0, "the scale subresource is held to the same bound");
    assert.match(scaled.stderr, /less than or equal to 32/);
    assert.equal((await getRedis(client, n, "fine")).spec?.replicas, 3);
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("pod trouble is Degraded with the pod's own words, and a fixed spec replaces the broken pod", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("mistakes-pods");
  const n = ns.name;
  const patch = (spec: Record<string, unknown>) =>
    kubectl(["-n", n, "patch", "redis", "oops", "--type", "merge", "-p", JSON.stringify({ spec })]);
  try {
    await kubectl(["-n", n, "apply", "-f", "-"], redisManifest("oops"));
    const healthy = await waitForReady(client, n, "oops");

    // Only Redis can judge this value: the first replaced replica crash-loops.
    await patch({ config: { "hash-max-listpack-entries": "plenty" } });
    const crashing = await waitForDegraded(client, n, "oops", "PodCrashLooping");
    console.log(`Degraded: ${crashing}`);
    assert.match(
      crashing,
      /container redis of pod redis-oops-\d keeps exiting \(last exit code 1\)/,
    );
    assert.match(crashing, /FATAL CONFIG FILE ERROR/, "redis-server's own message");
    assert.match(crashing, /hash-max-listpack-entries/);
    await waitForEvent(client, n, "oops", "PodCrashLooping", /FATAL CONFIG FILE ERROR/);
    const during = await getRedis(client, n, "oops");
    assert.equal(during.status?.master, healthy.status?.master, "the master was never touched");

    await patch({ config: null });
    await waitForFixed(client, n, "oops");

    // An image no node can pull.
    await patch({ redis: { image: "nginx:latest" } });
    const pulling = await waitForDegraded(client, n, "oops", "ImagePullFailed");
    console.log(`Degraded: ${pulling}`);
    assert.match(pulling, /image "nginx:latest" cannot be pulled/);
    await patch({ redis: { image: "redis:7.0" } });
    await waitForFixed(client, n, "oops");

    // A pod no node can take.
    await patch({ redis: { resources: { requests: { cpu: "500" } } } });
    const pending = await waitForDegraded(client, n, "oops", "PodUnschedulable");
    console.log(`Degraded: ${pending}`);
    assert.match(pending, /pod redis-oops-\d cannot be scheduled: 0\/\d+ nodes are available/);
    await patch({ redis: { resources: null } });
    const fixed = await waitForFixed(client, n, "oops");
    assert.equal(fixed.status?.master, healthy.status?.master, "no failover for any of it");
  } finally {
    await ns.remove();
    client.close();
  }
});

/** Waits for Degraded with `reason`; returns its message. */
function waitForDegraded(
  client: KubeClient,
  namespace: string,
  name: string,
  reason: string,
): Promise<string> {
  return waitFor(`Degraded ${reason}`, async () => {
    const degraded = (await getRedis(client, namespace, name)).status?.conditions?.find((c) =>
      c.type === "Degraded"
    );
    return degraded?.status === "True" && degraded.reason === reason ? degraded.message : undefined;
  }, 90_000);
}

/** Waits for an Event on the Redis with `reason` and a message matching `pattern`. */
function waitForEvent(
  client: KubeClient,
  namespace: string,
  name: string,
  reason: string,
  pattern: RegExp,
): Promise<true> {
  return waitFor(`a ${reason} Event`, async () => {
    const events = await client.request<{ items: Event[] }>({
      path: `/api/v1/namespaces/${namespace}/events?fieldSelector=involvedObject.name%3D${name}`,
    });
    return events.items.some((e) => e.reason === reason && pattern.test(e.message ?? "")) ||
      undefined;
  });
}

/**
 * Waits until the Redis is Ready, not Degraded, and every pod runs the
 * StatefulSet's current template (the broken one was replaced).
 */
function waitForFixed(client: KubeClient, namespace: string, name: string): Promise<Redis> {
  return waitFor(`redis ${name} fixed, every pod on the current template`, async () => {
    const redis = await waitForReady(client, namespace, name, 3, 120_000);
    const degraded = redis.status?.conditions?.find((c) => c.type === "Degraded");
    if (degraded?.status !== "False") return undefined;
    const set = await client.request<{ status?: { updateRevision?: string } }>({
      path: `/apis/apps/v1/namespaces/${namespace}/statefulsets/redis-${name}`,
    });
    const pods = await client.request<
      { items: { metadata?: { labels?: Record<string, string> } }[] }
    >({ path: `/api/v1/namespaces/${namespace}/pods?labelSelector=redis%3D${name}` });
    const current = pods.items.every((p) =>
      p.metadata?.labels?.["controller-revision-hash"] === set.status?.updateRevision
    );
    return current && pods.items.length === 3 ? redis : undefined;
  }, 180_000);
}

Deno.test("a password with a line break is refused with a clear message, never quoted back", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("mistakes-password");
  const n = ns.name;
  try {
    await kubectl([
      "-n",
      n,
      "create",
      "secret",
      "generic",
      "pw",
      "--from-literal=password=top\nsecret",
    ]);
    await kubectl(
      ["-n", n, "apply", "-f", "-"],
      redisManifest("nl", { password: { secretKeyRef: { name: "pw", key: "password" } } }),
    );
    const message = await waitForDegraded(client, n, "nl", "PasswordInvalid");
    assert.match(message, /Secret pw key password holds a line break or NUL/);
    assert.doesNotMatch(message, /secret$|top/);
    await waitForEvent(client, n, "nl", "PasswordInvalid", /line break/);
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("a Redis whose Service would take another's name leaves it to that one, says why, and runs", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("clash");
  const k = (...args: string[]) => kubectl(["-n", ns.name, ...args]);
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("clash"));
    const first = await waitForReady(client, ns.name, "clash");
    // Its Service of all pods would be redis-clash-master: the first one's master Service.
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("clash-master"));
    const message = await waitFor("NameConflict on the later Redis", async () => {
      const later = await getRedis(client, ns.name, "clash-master");
      const degraded = later.status?.conditions?.find((c) => c.type === "Degraded");
      return degraded?.reason === "NameConflict" ? degraded.message : undefined;
    });
    assert.match(message ?? "", /Service redis-clash-master .*Redis clash \(created earlier\)/);
    // The later one runs all the same: its pods, a master, its own master Service.
    const later = await waitFor("the later Redis's master", async () => {
      const r = await getRedis(client, ns.name, "clash-master");
      return r.status?.master && r.status.replicas === 3 ? r : undefined;
    }, 120_000);
    assert.equal(
      await k(
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=redis-clash-master-master",
        "-o",
        "jsonpath={.items[*].endpoints[*].addresses[*]}",
      ),
      later.status?.masterIP,
    );
    const owners = await k(
      "get",
      "service",
      "redis-clash-master",
      "-o",
      "jsonpath={.metadata.ownerReferences[*].name}",
    );
    assert.equal(owners, "clash", "the master Service is still only the first Redis's");
    // The first one is untouched: the same master, and its Service's only endpoint.
    await new Promise((r) => setTimeout(r, 3000));
    const still = await waitForReady(client, ns.name, "clash");
    assert.equal(still.status?.master, first.status?.master);
    assert.equal(
      await k(
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=redis-clash-master",
        "-o",
        "jsonpath={.items[*].endpoints[*].addresses[*]}",
      ),
      still.status?.masterIP,
    );
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("a memory limit without a maxmemory well below it is Degraded (advisory), and a fitting one clears it", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("maxmemory");
  const degraded = async () =>
    (await getRedis(client, ns.name, "mem")).status?.conditions?.find((c) => c.type === "Degraded");
  try {
    const limited = (config: Record<string, string>) =>
      redisManifest("mem", { config, redis: { resources: { limits: { memory: "64Mi" } } } });
    await kubectl(["-n", ns.name, "apply", "-f", "-"], limited({}));
    await waitForReady(client, ns.name, "mem");
    const unset = await waitFor("MaxmemoryMismatch", async () => {
      const d = await degraded();
      return d?.reason === "MaxmemoryMismatch" ? d : undefined;
    });
    assert.match(unset.message ?? "", /maxmemory is not set.*64Mi.*OOMKilled.*about 48mb/);
    // Advisory: the Redis stays Ready.
    await waitForReady(client, ns.name, "mem");
    await kubectl(["-n", ns.name, "apply", "-f", "-"], limited({ maxmemory: "60mb" }));
    await waitFor("too close to the limit", async () => {
      const d = await degraded();
      return d?.reason === "MaxmemoryMismatch" && /94% of/.test(d.message ?? "") ? d : undefined;
    });
    await kubectl(["-n", ns.name, "apply", "-f", "-"], limited({ maxmemory: "48mb" }));
    await waitFor("Degraded cleared", async () => {
      const d = await degraded();
      return d?.status === "False" ? d : undefined;
    }, 60_000);
  } finally {
    await ns.remove();
    client.close();
  }
});
