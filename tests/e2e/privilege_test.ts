/**
 * What creating a Redis lets a namespace user do through the operator (issue
 * 8, item 10). The contract: the pods the operator creates are ordinary pods
 * of the user's namespace, so Pod Security Admission judges them like any
 * other (a Redis is as powerful as a StatefulSet there, no more); the default
 * pods satisfy the "restricted" standard; and the operator's own identity can
 * write only its own Secrets, whatever its ClusterRole says.
 */
import assert from "node:assert/strict";
import { clusterClient, kubectl, testNamespace, waitFor } from "../cluster/helpers.ts";
import { deployOperator, redisManifest, waitForReady } from "./operator.ts";

const operatorIdentity = "--as=system:serviceaccount:redis-operator:redis-operator";

Deno.test("the operator's identity cannot write a Secret that is not its own", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("secrets");
  const k = (...args: string[]) => kubectl(["-n", ns.name, ...args]);
  const asOperator = (...args: string[]) =>
    kubectl(["-n", ns.name, operatorIdentity, ...args]).then(() => "allowed", String);
  try {
    await k("create", "secret", "generic", "app-db", "--from-literal=password=users-own");
    await k("create", "secret", "generic", "redis-app", "--from-literal=password=users-too");
    const patch = JSON.stringify({ data: { password: btoa("taken") } });
    assert.match(await asOperator("patch", "secret", "app-db", "-p", patch), /denied request/);
    assert.match(
      await asOperator("patch", "secret", "redis-app", "-p", patch),
      /denied request/,
      "named like a copy, but not labelled as one",
    );
    assert.match(
      await asOperator(
        "label",
        "secret",
        "redis-app",
        "app.kubernetes.io/managed-by=redis-operator",
      ),
      /denied request/,
      "nor can it make a user's Secret its own",
    );
    assert.match(await asOperator("delete", "secret", "app-db"), /denied request|cannot delete/);
    assert.equal(
      atob(JSON.parse(await k("get", "secret", "app-db", "-o", "json")).data.password),
      "users-own",
    );
    // Its own copies it writes as before.
    await k("create", "secret", "generic", "pw", "--from-literal=pw=s3cret");
    await kubectl(
      ["-n", ns.name, "apply", "-f", "-"],
      redisManifest("own", { password: { secretKeyRef: { name: "pw", key: "pw" } } }),
    );
    await waitForReady(client, ns.name, "own");
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("the operator's identity can set only the switchover annotation on a Redis", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("redis-patch");
  const asOperator = (...args: string[]) =>
    kubectl(["-n", ns.name, operatorIdentity, ...args]).then(() => "allowed", String);
  const merge = (
    patch: unknown,
  ) => ["patch", "redis", "app", "--type=merge", "-p", JSON.stringify(patch)];
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("app"));
    for (
      const [what, patch] of [
        ["its spec", { spec: { replicas: 4 } }],
        ["a label", { metadata: { labels: { team: "x" } } }],
        ["another annotation", { metadata: { annotations: { note: "x" } } }],
        ["its owners", {
          metadata: {
            ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "x", uid: "1" }],
          },
        }],
      ] as const
    ) {
      assert.match(await asOperator(...merge(patch)), /denied request/, what);
    }
    assert.equal(
      await asOperator(...merge({
        metadata: { annotations: { "redis-operator.dev/switchover": "0" } },
      })),
      "allowed",
    );
    assert.match(await asOperator("delete", "redis", "app"), /denied request|cannot delete/);
  } finally {
    await ns.remove();
    client.close();
  }
});

Deno.test("a default Redis runs where the restricted Pod Security Standard is enforced; a hostPath volume or a privileged init container does not", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("restricted");
  const k = (...args: string[]) => kubectl(["-n", ns.name, ...args]);
  try {
    await kubectl([
      "label",
      "namespace",
      ns.name,
      "pod-security.kubernetes.io/enforce=restricted",
      "pod-security.kubernetes.io/enforce-version=latest",
    ]);
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("tight"));
    await waitForReady(client, ns.name, "tight");

    // What a namespace user could not do with a pod of their own, they cannot do through us.
    const escapes: Array<[string, Record<string, unknown>, RegExp]> = [
      ["escape", { volumes: [{ name: "host", hostPath: { path: "/" } }] }, /hostPath/],
      ["privileged", {
        initContainers: [{
          name: "root",
          image: "redis:7.0",
          command: ["true"],
          securityContext: { privileged: true },
        }],
      }, /privileged/],
    ];
    for (const [name, spec] of escapes) {
      await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest(name, spec));
    }
    for (const [name, , why] of escapes) {
      const refused = await waitFor(`the pods of ${name} refused`, async () => {
        const messages = await k(
          "get",
          "events",
          "--field-selector",
          `involvedObject.name=redis-${name},reason=FailedCreate`,
          "-o",
          "jsonpath={.items[*].message}",
        );
        return /violates PodSecurity "restricted:latest"/.test(messages) && why.test(messages)
          ? messages
          : undefined;
      });
      assert.ok(refused);
      assert.equal(await k("get", "pods", "-l", `redis=${name}`, "-o", "name"), "", "no pod runs");
    }
  } finally {
    await ns.remove();
    client.close();
  }
});
