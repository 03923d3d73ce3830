import assert from "node:assert/strict";
import type { Redis } from "../api/redis.ts";
import { buildNetworkPolicy } from "./network_policy.ts";

const redis = (spec: NonNullable<Redis["spec"]>): Redis => ({
  metadata: { name: "cache", namespace: "shop", uid: "u1" },
  spec,
});

Deno.test("buildNetworkPolicy(): none unless asked for", () => {
  assert.equal(buildNetworkPolicy(redis({ replicas: 3 }), "redis-operator"), undefined);
});

Deno.test("buildNetworkPolicy(): the operator, the set's own pods and the listed peers reach 6379", () => {
  const clients = { podSelector: { matchLabels: { "cache-client": "true" } } };
  const policy = buildNetworkPolicy(redis({ networkPolicy: { from: [clients] } }), "ops")!;
  assert.equal(policy.metadata?.name, "redis-cache");
  assert.equal(policy.metadata?.ownerReferences?.[0]?.uid, "u1");
  assert.deepEqual(policy.spec?.policyTypes, ["Ingress"]);
  assert.deepEqual(policy.spec?.podSelector, {
    matchLabels: { redis: "cache", "app.kubernetes.io/managed-by": "redis-operator" },
  });
  assert.equal(policy.spec?.ingress?.length, 1, "no metrics rule without an exporter");
  const [redisRule] = policy.spec!.ingress!;
  assert.deepEqual(redisRule!.ports, [{ protocol: "TCP", port: 6379 }]);
  assert.deepEqual(redisRule!.from, [
    {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ops" } },
      podSelector: { matchLabels: { "app.kubernetes.io/name": "redis-operator" } },
    },
    {
      podSelector: {
        matchLabels: { redis: "cache", "app.kubernetes.io/managed-by": "redis-operator" },
      },
    },
    clients,
  ]);
});

Deno.test("buildNetworkPolicy(): the exporter's port only from metricsFrom", () => {
  const prometheus = {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
  };
  const policy = buildNetworkPolicy(
    redis({
      exporter: { image: "oliver006/redis_exporter" },
      networkPolicy: { metricsFrom: [prometheus] },
    }),
    "ops",
  )!;
  assert.deepEqual(policy.spec?.ingress?.[1], {
    from: [prometheus],
    ports: [{ protocol: "TCP", port: 9121 }],
  });
  assert.equal(policy.spec?.ingress?.[0]?.from?.length, 2, "only the operator and its own pods");
});
