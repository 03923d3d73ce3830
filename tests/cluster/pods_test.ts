/**
 * What the node agent does with single pods: images it cannot run, the
 * operator's own image under a service account, init containers and env.
 */
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { delay } from "../../src/async/delay.ts";
import { runningPid } from "../../cluster/lib/daemon.ts";
import { clusterClient, layout, redisCli, testNamespace, waitFor } from "./helpers.ts";

const isReady = (p: Pod) =>
  p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

Deno.test("pods on the local node", async (t) => {
  const client = await clusterClient();
  const ns = await testNamespace("pods");
  const pod = (name: string) =>
    client.request<Pod>({ path: `/api/v1/namespaces/${ns.name}/pods/${name}` });
  const create = (manifest: object) =>
    client.request({ method: "POST", path: `/api/v1/namespaces/${ns.name}/pods`, body: manifest });
  try {
    await t.step("an image the agent cannot run shows a waiting reason, not a crash", async () => {
      await create({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "unrunnable" },
        spec: { containers: [{ name: "web", image: "nginx:1.27" }] },
      });
      const waiting = await waitFor(
        "a waiting reason",
        async () => (await pod("unrunnable")).status?.containerStatuses?.[0]?.state?.waiting,
      );
      assert.match(waiting.reason ?? "", /^(ErrImagePull|ImagePullBackOff)$/);
      assert.match(waiting.message ?? "", /nginx:1\.27/);
      assert.equal((await pod("unrunnable")).status?.phase, "Pending");
    });

    await t.step(
      "the operator image runs main.ts in-cluster, non-root, with its service-account token",
      async () => {
        await create({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "operator" },
          spec: {
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 },
            containers: [{
              name: "operator",
              image: "ghcr.io/redis-operator/redis-operator:dev",
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
              // Ready only once main.ts has reached the API server with the pod's own token.
              readinessProbe: { httpGet: { path: "/readyz", port: 8080 }, periodSeconds: 1 },
            }],
          },
        });
        const ready = await waitFor("the operator pod to become Ready", async () => {
          const p = await pod("operator");
          return isReady(p) ? p : undefined;
        }, 60_000);
        const response = await fetch(`http://${ready.status!.podIP}:8080/readyz`);
        assert.equal(await response.text(), "ok\n");
      },
    );

    await t.step(
      "init containers run first; env, downward API and $(VAR) expansion reach the process",
      async () => {
        await client.request({
          method: "POST",
          path: `/api/v1/namespaces/${ns.name}/secrets`,
          body: {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "auth" },
            stringData: { password: "s3cret" },
          },
        });
        await create({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "envy", labels: { app: "envy" } },
          spec: {
            initContainers: [{
              name: "prepare",
              image: "redis:7.0",
              command: ["sh", "-c", 'echo "requirepass $PASSWORD" > /work/extra.conf'],
              env: [{
                name: "PASSWORD",
                valueFrom: { secretKeyRef: { name: "auth", key: "password" } },
              }],
              volumeMounts: [{ name: "work", mountPath: "/work" }],
            }],
            containers: [{
              name: "redis",
              image: "valkey/valkey:8",
              env: [
                { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              ],
              command: ["valkey-server"],
              args: ["/work/extra.conf", "--replica-announce-ip", "$(POD_IP)", "--bind", "0.0.0.0"],
              volumeMounts: [{ name: "work", mountPath: "/work" }],
              readinessProbe: { tcpSocket: { port: 6379 }, periodSeconds: 1 },
            }],
            volumes: [{ name: "work", emptyDir: {} }],
          },
        });
        const ready = await waitFor("the pod with an init container to become Ready", async () => {
          const p = await pod("envy");
          return isReady(p) ? p : undefined;
        });
        assert.equal(ready.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode, 0);
        const ip = ready.status!.podIP!;
        assert.match(await redisCli(ip, "PING"), /NOAUTH/);
        assert.equal(
          await redisCli(
            ip,
            "-a",
            "s3cret",
            "--no-auth-warning",
            "CONFIG",
            "GET",
            "replica-announce-ip",
          ),
          `replica-announce-ip\n${ip}`,
        );
      },
    );

    await t.step(
      "a container whose setup timed out on a stopped API server is tried again, not given up",
      async () => {
        await create({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "patient" },
          spec: {
            containers: [{
              name: "redis",
              image: "redis:7.0",
              env: [{
                name: "GREETING",
                valueFrom: { configMapKeyRef: { name: "later", key: "greeting" } },
              }],
              readinessProbe: { tcpSocket: { port: 6379 }, periodSeconds: 1 },
            }],
          },
        });
        await waitFor(
          "CreateContainerConfigError",
          async () =>
            (await pod("patient")).status?.containerStatuses?.[0]?.state?.waiting?.reason ===
              "CreateContainerConfigError" || undefined,
        );
        // The agent looks for the ConfigMap every 2 s; with the API server stopped for longer
        // than its 10 s request timeout, at least one lookup times out (as in CI, where an
        // operator pod that restarted during the chaos test was never started again).
        const apiServer = runningPid(layout.pidDir, "kube-apiserver");
        assert.ok(apiServer, `kube-apiserver runs (pid file in ${layout.pidDir})`);
        Deno.kill(apiServer, "SIGSTOP");
        try {
          await delay(13_000);
        } finally {
          Deno.kill(apiServer, "SIGCONT");
        }
        await waitFor(
          "the API server back",
          () => pod("patient").then(() => true, () => undefined),
        );
        await client.request({
          method: "POST",
          path: `/api/v1/namespaces/${ns.name}/configmaps`,
          body: {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "later" },
            data: { greeting: "hello" },
          },
        });
        await waitFor("the patient pod to become Ready", async () => {
          const p = await pod("patient");
          return isReady(p) ? p : undefined;
        }, 60_000);
      },
    );

    await t.step(
      "a Ready condition another writer turned False is written back, as a kubelet's status manager does",
      async () => {
        // What the node lifecycle controller does to the pods of a node whose heartbeat
        // it missed; when the node is back, the kubelet restores the truth. The agent
        // once left such a pod not Ready forever, and a rollout waiting on it hung.
        await client.request({
          method: "PATCH",
          path: `/api/v1/namespaces/${ns.name}/pods/patient/status`,
          contentType: "application/strategic-merge-patch+json",
          body: {
            status: {
              conditions: [{ type: "Ready", status: "False", reason: "NodeNotReady" }],
            },
          },
        });
        const back = await waitFor("Ready written back", async () => {
          const p = await pod("patient");
          return isReady(p) ? p : undefined;
        }, 30_000);
        const ready = back.status!.conditions!.find((c) => c.type === "Ready")!;
        assert.equal(ready.reason, undefined, "no reason left on a true condition");
      },
    );
  } finally {
    await ns.remove();
    client.close();
  }
});
