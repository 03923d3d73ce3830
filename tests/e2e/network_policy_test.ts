/**
 * The optional NetworkPolicy (issue 11): `spec.networkPolicy` makes a policy
 * that the API server validates, admitting the operator's pods, the set's own
 * pods and the listed peers; a peer the API server refuses is reported; the
 * operator may not touch a user's policy; removing the field removes the
 * policy. The local cluster's network does not enforce policies (no network
 * plugin does here), so this checks what is written, not what is blocked.
 */
import assert from "node:assert/strict";
import type { NetworkPolicy } from "kubernetes-types/networking/v1.d.ts";
import {
  clusterClient,
  kubectl,
  kubectlStatus,
  testNamespace,
  waitFor,
} from "../cluster/helpers.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "./operator.ts";

const asOperator = ["--as=system:serviceaccount:redis-operator:redis-operator"];

Deno.test("spec.networkPolicy: written as asked, refused peers reported, removed with the field", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("netpol");
  const n = ns.name;
  const policyPath = `/apis/networking.k8s.io/v1/namespaces/${n}/networkpolicies/redis-np`;
  const patch = (spec: Record<string, unknown>) =>
    kubectl(["-n", n, "patch", "redis", "np", "--type", "merge", "-p", JSON.stringify({ spec })]);
  try {
    const clients = { podSelector: { matchLabels: { "np-client": "true" } } };
    await kubectl(
      ["-n", n, "apply", "-f", "-"],
      redisManifest("np", { networkPolicy: { from: [clients] } }),
    );
    await waitForReady(client, n, "np");
    const policy = await waitFor(
      "the NetworkPolicy",
      () => client.request<NetworkPolicy>({ path: policyPath }),
    );
    assert.deepEqual(policy.spec?.policyTypes, ["Ingress"]);
    assert.deepEqual(policy.spec?.podSelector?.matchLabels, {
      redis: "np",
      "app.kubernetes.io/managed-by": "redis-operator",
    });
    const [rule] = policy.spec!.ingress!;
    assert.deepEqual(rule!.ports, [{ protocol: "TCP", port: 6379 }]);
    assert.deepEqual(rule!.from, [
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "redis-operator" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "redis-operator" } },
      },
      {
        podSelector: {
          matchLabels: { redis: "np", "app.kubernetes.io/managed-by": "redis-operator" },
        },
      },
      clients,
    ]);

    // The operator's own rights never reach a user's policy.
    await kubectl(
      ["-n", n, "apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "users-own" },
        spec: { podSelector: {}, policyTypes: ["Ingress"] },
      }),
    );
    const deleted = await kubectlStatus([
      ...asOperator,
      "-n",
      n,
      "delete",
      "networkpolicy",
      "users-own",
    ]);
    assert.notEqual(deleted.code, 0);
    assert.match(deleted.stderr, /may only write and delete NetworkPolicies labelled/);
    const own = await kubectlStatus([
      ...asOperator,
      "-n",
      n,
      "label",
      "--dry-run=server",
      "networkpolicy",
      "redis-np",
      "x=y",
    ]);
    assert.equal(own.code, 0, own.stderr);

    // A peer the API server refuses: reported with its message; replication carries on.
    await patch({ networkPolicy: { from: [{ ipBlock: { cidr: "not-a-cidr" } }] } });
    const refused = await waitFor("Degraded ApplyFailed", async () => {
      const degraded = (await getRedis(client, n, "np")).status?.conditions?.find((c) =>
        c.type === "Degraded"
      );
      return degraded?.status === "True" && degraded.reason === "ApplyFailed"
        ? degraded.message
        : undefined;
    });
    assert.match(refused, /NetworkPolicy redis-np.*cidr/i);

    // Without the field, the policy goes; the user's stays.
    await patch({ networkPolicy: null });
    await waitFor("the policy removed", async () => {
      const { code } = await kubectlStatus(["-n", n, "get", "networkpolicy", "redis-np"]);
      return code !== 0 || undefined;
    });
    await kubectl(["-n", n, "get", "networkpolicy", "users-own"]);
    const healthy = await waitForReady(client, n, "np");
    assert.equal(
      healthy.status?.conditions?.find((c) => c.type === "Degraded")?.status,
      "False",
    );
  } finally {
    await ns.remove();
    client.close();
  }
});
