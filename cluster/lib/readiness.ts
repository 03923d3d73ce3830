/**
 * Waits until each freshly started component of a local cluster is usable:
 * etcd is healthy, the API server is ready, the node reports Ready and the
 * `default` ServiceAccount exists (pods are refused until it does).
 *
 * @module
 */
import { delay } from "../../src/async/delay.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { loadKubeconfig } from "../../src/kube/config.ts";
import { type Component, kubeProxyHealthPort } from "./control_plane.ts";
import { type ClusterLayout, network } from "./layout.ts";

type Check = [what: string, check: (client: KubeClient) => Promise<boolean>];

/** What must hold once a component has started, before the next one starts. */
function checksAfter(component: Component): Check[] {
  const nodeName = component.node?.name;
  switch (component.kind) {
    case "etcd":
      return [["etcd healthy", async () => (await fetch("http://127.0.0.1:2379/health")).ok]];
    case "kube-apiserver":
      return [["API server ready", async (client) => {
        await client.request({ path: "/readyz" });
        return true;
      }]];
    case "node-agent":
      return [
        [`node ${nodeName} Ready`, async (client) => {
          const node = await client.request<
            { status?: { conditions?: Array<{ type: string; status: string }> } }
          >({ path: `/api/v1/nodes/${nodeName}` });
          return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ??
            false;
        }],
        ["default ServiceAccount", async (client) => {
          await client.request({ path: "/api/v1/namespaces/default/serviceaccounts/default" });
          return true;
        }],
      ];
    case "kube-proxy":
      // healthz answers 200 once kube-proxy has written its first full ruleset.
      return [[`kube-proxy synced${nodeName ? ` on ${nodeName}` : ""}`, async () => {
        const address = component.node?.ip ?? network.controlPlaneIP;
        const response = await fetch(`http://${address}:${kubeProxyHealthPort}/healthz`);
        await response.body?.cancel();
        return response.ok;
      }]];
    default:
      return [];
  }
}

/**
 * Polls the checks that follow `component` until they pass; `assertAlive()` is
 * called on every round so a crashed component fails the wait at once.
 */
export async function waitForComponent(
  layout: ClusterLayout,
  component: Component,
  assertAlive: () => void,
  timeoutMs = 120_000,
): Promise<void> {
  const checks = checksAfter(component);
  if (!checks.length) return;
  const client = new KubeClient(await loadKubeconfig(layout.kubeconfig));
  const deadline = Date.now() + timeoutMs;
  try {
    for (const [what, check] of checks) {
      let lastError: unknown;
      while (true) {
        assertAlive();
        try {
          if (await check(client)) break;
        } catch (error) {
          lastError = error;
        }
        if (Date.now() > deadline) {
          throw new Error(`Timed out waiting for ${what}`, { cause: lastError });
        }
        await delay(100);
      }
      console.log(`ready: ${what}`);
    }
  } finally {
    client.close();
  }
}
