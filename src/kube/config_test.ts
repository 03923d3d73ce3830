import assert from "node:assert/strict";
import { loadInClusterConfig, loadKubeconfig, resolveKubeconfig } from "./config.ts";

const b64 = (text: string) => btoa(text);

Deno.test("resolveKubeconfig() takes the current context's cluster, user and namespace, with embedded certificates", async () => {
  const config = await resolveKubeconfig({
    "current-context": "b",
    clusters: [
      { name: "one", cluster: { server: "https://one:6443" } },
      {
        name: "two",
        cluster: { server: "https://two:6443/", "certificate-authority-data": b64("CA") },
      },
    ],
    users: [{
      name: "admin",
      user: { "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") },
    }],
    contexts: [
      { name: "a", context: { cluster: "one" } },
      { name: "b", context: { cluster: "two", user: "admin", namespace: "prod" } },
    ],
  }, "/nowhere");
  assert.equal(config.server, "https://two:6443");
  assert.equal(config.caCert, "CA");
  assert.equal(config.clientCert, "CERT");
  assert.equal(config.clientKey, "KEY");
  assert.equal(config.namespace, "prod");
  assert.equal(config.token, undefined);
});

Deno.test("resolveKubeconfig() names the missing context or cluster", async () => {
  await assert.rejects(resolveKubeconfig({ "current-context": "x" }, "."), /no context named: x/);
  await assert.rejects(
    resolveKubeconfig({
      "current-context": "x",
      contexts: [{ name: "x", context: { cluster: "gone" } }],
    }, "."),
    /no cluster named: gone/,
  );
});

Deno.test("loadKubeconfig() reads certificate files relative to the kubeconfig and static tokens", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.crt`, "CA-FROM-FILE");
    await Deno.writeTextFile(
      `${dir}/config`,
      [
        "apiVersion: v1",
        "current-context: c",
        "clusters: [{name: k, cluster: {server: 'https://[fd00::1]:6443', certificate-authority: ca.crt}}]",
        "users: [{name: u, user: {token: abc}}]",
        "contexts: [{name: c, context: {cluster: k, user: u}}]",
      ].join("\n"),
    );
    const config = await loadKubeconfig(`${dir}/config`);
    assert.equal(config.caCert, "CA-FROM-FILE");
    assert.equal(await config.token!(), "abc");
    assert.equal(config.namespace, "default");
    assert.equal(config.server, "https://[fd00::1]:6443");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveKubeconfig() runs an exec credential plugin and passes its env", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plugin = `${dir}/plugin.sh`;
    await Deno.writeTextFile(
      plugin,
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"'"$PREFIX"'-token"}}'\n`,
    );
    await Deno.chmod(plugin, 0o755);
    const config = await resolveKubeconfig({
      "current-context": "c",
      clusters: [{ name: "k", cluster: { server: "https://k" } }],
      users: [{
        name: "u",
        user: { exec: { command: plugin, env: [{ name: "PREFIX", value: "exec" }] } },
      }],
      contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
    }, dir);
    assert.equal(await config.token!(), "exec-token");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadInClusterConfig() reads the token again for every request, so rotation is picked up", async () => {
  const dir = await Deno.makeTempDir();
  const saved = {
    host: Deno.env.get("KUBERNETES_SERVICE_HOST"),
    port: Deno.env.get("KUBERNETES_SERVICE_PORT"),
  };
  try {
    await Deno.writeTextFile(`${dir}/ca.crt`, "CA");
    await Deno.writeTextFile(`${dir}/namespace`, "ops\n");
    await Deno.writeTextFile(`${dir}/token`, "first\n");
    Deno.env.set("KUBERNETES_SERVICE_HOST", "fd00::1");
    Deno.env.set("KUBERNETES_SERVICE_PORT", "6443");
    const config = await loadInClusterConfig(dir);
    assert.equal(config.server, "https://[fd00::1]:6443");
    assert.equal(config.namespace, "ops");
    assert.equal(await config.token!(), "first");
    await Deno.writeTextFile(`${dir}/token`, "rotated");
    assert.equal(await config.token!(), "rotated");
  } finally {
    for (
      const [key, value] of [["KUBERNETES_SERVICE_HOST", saved.host], [
        "KUBERNETES_SERVICE_PORT",
        saved.port,
      ]]
    ) {
      if (value === undefined) Deno.env.delete(key!);
      else Deno.env.set(key!, value);
    }
    await Deno.remove(dir, { recursive: true });
  }
});
