import assert from "node:assert/strict";
import type { Redis } from "../api/redis.ts";
import { buildStatefulSet, configHash } from "./stateful_set.ts";

const redis: Redis = {
  metadata: { name: "cache", namespace: "prod", uid: "u-1" },
  spec: { replicas: 3, password: { secretKeyRef: { name: "pw", key: "k" } } },
};

Deno.test("buildStatefulSet() is owned by the Redis, OnDelete, with the seed's names and selector", () => {
  const set = buildStatefulSet(redis);
  assert.equal(set.metadata?.name, "redis-cache");
  assert.equal(set.spec?.serviceName, "redis-cache-headless");
  assert.equal(set.spec?.updateStrategy?.type, "OnDelete");
  assert.deepEqual(set.spec?.selector.matchLabels, {
    redis: "cache",
    "app.kubernetes.io/managed-by": "redis-operator",
  });
  assert.equal(set.metadata?.ownerReferences?.[0]?.uid, "u-1");
  assert.equal(set.metadata?.ownerReferences?.[0]?.controller, true);
});

Deno.test("buildStatefulSet() takes the password from the operator's Secret, never from the spec", () => {
  const container = buildStatefulSet(redis).spec!.template.spec!.containers[0]!;
  const password = container.env?.find((e) => e.name === "REDIS_PASSWORD");
  assert.deepEqual(password?.valueFrom?.secretKeyRef, {
    name: "redis-cache",
    key: "password",
    optional: true,
  });
  assert.ok(container.lifecycle?.preStop?.exec, "the preStop hook holds a master for its handover");
});

Deno.test("buildStatefulSet() has the same pod template with and without a password (it changes live)", () => {
  const { password: _, ...withoutPassword } = redis.spec ?? {};
  const without = buildStatefulSet({ ...redis, spec: withoutPassword });
  assert.deepEqual(without.spec?.template, buildStatefulSet(redis).spec?.template);
});

Deno.test("buildStatefulSet() keeps a removed master's pod while the scale-down waits", () => {
  assert.equal(buildStatefulSet(redis).spec?.replicas, 3);
  assert.equal(buildStatefulSet(redis, 4).spec?.replicas, 4);
});

Deno.test("configHash() changes with the config, so a config change rolls the pods", () => {
  const changed: Redis = { ...redis, spec: { ...redis.spec, config: { maxmemory: "1gb" } } };
  assert.notEqual(configHash(redis), configHash(changed));
  assert.equal(configHash(redis), configHash({ ...redis }));
});

Deno.test("buildStatefulSet() spreads the pods across nodes and zones unless spec.affinity says otherwise (issues 8 and 13)", () => {
  const spread = buildStatefulSet(redis).spec?.template.spec?.affinity;
  const terms = spread?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  assert.deepEqual(terms.map((t) => t.podAffinityTerm.topologyKey), [
    "kubernetes.io/hostname",
    "topology.kubernetes.io/zone",
  ]);
  assert.equal(spread?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution, undefined);
  for (const term of terms) {
    assert.deepEqual(term.podAffinityTerm.labelSelector?.matchLabels, {
      redis: "cache",
      "app.kubernetes.io/managed-by": "redis-operator",
    });
  }
  const own = { nodeAffinity: {} };
  const custom = buildStatefulSet({ ...redis, spec: { ...redis.spec, affinity: own } });
  assert.deepEqual(custom.spec?.template.spec?.affinity, own);
});

Deno.test("buildStatefulSet() gives pods the restricted Pod Security settings unless the spec sets its own (issue 8, item 10)", () => {
  const pod = buildStatefulSet(redis).spec!.template.spec!;
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
  for (const container of pod.containers) {
    assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext?.capabilities?.drop, ["ALL"]);
  }
  const own = { runAsUser: 1000 };
  const custom = buildStatefulSet({ ...redis, spec: { ...redis.spec, securityContext: own } });
  assert.deepEqual(custom.spec?.template.spec?.securityContext, own);
});

Deno.test("configHash() does not change with the number of instances (a scale replaces no pod)", () => {
  const scaled: Redis = { ...redis, spec: { ...redis.spec, replicas: 5 } };
  assert.equal(configHash(scaled), configHash(redis));
});

Deno.test("buildStatefulSet() with spec.tls: the Secret mounted, probes and scripts over TLS on 6380", () => {
  const set = buildStatefulSet({ ...redis, spec: { ...redis.spec, tls: { secretName: "certs" } } });
  const pod = set.spec!.template.spec!;
  const container = pod.containers[0]!;
  assert.deepEqual(pod.volumes?.find((v) => v.name === "tls")?.secret, { secretName: "certs" });
  assert.deepEqual(
    container.volumeMounts?.find((m) => m.name === "tls"),
    { name: "tls", mountPath: "/etc/redis-tls", readOnly: true },
  );
  assert.deepEqual(container.ports, [{ name: "redis-tls", containerPort: 6380, protocol: "TCP" }]);
  assert.deepEqual(container.readinessProbe?.exec?.command, [
    "redis-cli",
    "--tls",
    "--insecure",
    "-p",
    "6380",
    "ping",
  ]);
  const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value]));
  assert.equal(env.REDIS_PORT, "6380");
  assert.equal(env.REDIS_CLI_TLS, "--tls --insecure");

  const plain = buildStatefulSet(redis).spec!.template.spec!.containers[0]!;
  assert.deepEqual(plain.ports, [{ name: "redis", containerPort: 6379, protocol: "TCP" }]);
  assert.equal(plain.env?.find((e) => e.name === "REDIS_CLI_TLS"), undefined);
  const both = buildStatefulSet({
    ...redis,
    spec: { ...redis.spec, tls: { secretName: "certs", plaintext: true } },
  }).spec!.template.spec!.containers[0]!;
  assert.deepEqual(both.ports?.map((p) => p.containerPort), [6379, 6380]);
});
