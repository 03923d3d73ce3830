/**
 * Failover does not depend on the other objects (issue 8, item 2). Before,
 * any object the API server refused, or a user Secret that went missing,
 * ended every pass before Redis was observed: a master frozen for 15 s was
 * never replaced. Here, in one Redis, an admission policy denies the
 * operator's StatefulSet updates and a quota refuses a new object while the
 * spec asks for both; in another, the password Secret is deleted. Each time
 * the master is then stopped (SIGSTOP) and must be replaced within the
 * detection window, while the status says what the operator could not do.
 * A change of the claim template, which a StatefulSet cannot take, is refused
 * when it is applied.
 */
import assert from "node:assert/strict";
import type { KubeClient } from "../../src/kube/client.ts";
import {
  clusterClient,
  fault,
  kubectl,
  kubectlStatus,
  testNamespace,
  waitFor,
} from "../cluster/helpers.ts";
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

Deno.test("a change of the claim template is refused when applied, with what to do instead", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("grow");
  const claim = (storage: string) => ({
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage } } },
  });
  try {
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest("grow", { dataVolumeClaimTemplate: claim("1Gi") }),
    );
    await waitForReady(client, ns.name, "grow");
    const patch = (spec: unknown) =>
      kubectlStatus([
        "-n",
        ns.name,
        "patch",
        "redis",
        "grow",
        "--type=merge",
        "-p",
        JSON.stringify({ spec }),
      ]);
    const grown = await patch({ dataVolumeClaimTemplate: claim("2Gi") });
    assert.notEqual(grown.code, 0, "growing the template is refused");
    assert.match(grown.stderr, /dataVolumeClaimTemplate cannot change.*expand each/s);
    const removed = await patch({ dataVolumeClaimTemplate: null });
    assert.notEqual(removed.code, 0, "removing it is refused too");
    // Anything else still goes through.
    const other = await patch({ annotations: { "example.com/team": "a" } });
    assert.equal(other.code, 0, other.stderr);
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("with the operator's writes refused by an admission policy and a quota, a stopped master is still replaced within the window", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("blocked");
  const policy = `test-deny-statefulsets-${ns.name}`;
  try {
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest("blocked", { failover: { detectionWindowMs } }),
    );
    await waitForReady(client, ns.name, "blocked");
    // What an admission webhook or policy of the cluster's owner may do to the operator.
    await kubectl(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          {
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicy",
            metadata: { name: policy },
            spec: {
              failurePolicy: "Fail",
              matchConstraints: {
                resourceRules: [{
                  apiGroups: ["apps"],
                  apiVersions: ["*"],
                  operations: ["UPDATE"],
                  resources: ["statefulsets"],
                }],
              },
              matchConditions: [{
                name: "the-operator",
                expression:
                  "request.userInfo.username == 'system:serviceaccount:redis-operator:redis-operator'",
              }],
              validations: [{ expression: "false", message: "denied by the test's policy" }],
            },
          },
          {
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicyBinding",
            metadata: { name: policy },
            spec: {
              policyName: policy,
              validationActions: ["Deny"],
              matchResources: {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": ns.name },
                },
              },
            },
          },
        ],
      }),
    );
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "ResourceQuota",
        metadata: { name: "no-policies" },
        spec: { hard: { "count/networkpolicies.networking.k8s.io": "0" } },
      }),
    );
    // Both are picked up asynchronously (the policy by the API server within about a second,
    // the quota once its controller has counted): the operator's patch must meet them.
    await waitFor("the policy to deny the operator's StatefulSet updates", async () => {
      const tried = await kubectlStatus([
        "-n",
        ns.name,
        "patch",
        "statefulset",
        "redis-blocked",
        "--dry-run=server",
        "--as=system:serviceaccount:redis-operator:redis-operator",
        "--type=merge",
        "-p",
        '{"metadata":{"annotations":{"example.com/probe":"1"}}}',
      ]);
      return tried.code !== 0 && /denied by the test's policy/.test(tried.stderr) || undefined;
    });
    await waitFor("the quota counted", async () => {
      const hard = await kubectl([
        "-n",
        ns.name,
        "get",
        "resourcequota",
        "no-policies",
        "-o",
        "jsonpath={.status.hard}",
      ]);
      return hard.includes("networkpolicies") || undefined;
    });
    // A pod annotation changes the StatefulSet; a NetworkPolicy is a new object.
    await kubectl([
      "-n",
      ns.name,
      "patch",
      "redis",
      "blocked",
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { annotations: { "example.com/team": "a" }, networkPolicy: {} } }),
    ]);
    const message = await waitFor("both refusals in the status", async () => {
      const redis = await getRedis(client, ns.name, "blocked");
      const degraded = redis.status?.conditions?.find((c) => c.type === "Degraded");
      const text = degraded?.status === "True" && degraded.reason === "ApplyFailed"
        ? degraded.message ?? ""
        : "";
      return /denied by the test's policy/.test(text) && /quota/i.test(text) ? text : undefined;
    });
    console.log(`refused: ${message}`);
    const replacedMs = await replaceStoppedMaster(client, ns.name, "blocked");
    console.log(`operator's writes refused; stopped master replaced after ${replacedMs} ms`);
    await allThreeBack(client, ns.name, "blocked");
    // Lifted, everything the spec asked for is applied.
    await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", policy]);
    await kubectl(["-n", ns.name, "delete", "resourcequota", "no-policies"]);
    await waitForReady(client, ns.name, "blocked", 3, 60_000);
    await kubectl(["-n", ns.name, "get", "networkpolicy", "redis-blocked"]);
  } finally {
    await kubectlStatus([
      "delete",
      "--ignore-not-found",
      "validatingadmissionpolicybinding,validatingadmissionpolicy",
      policy,
    ]);
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
