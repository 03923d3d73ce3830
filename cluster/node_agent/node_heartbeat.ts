/**
 * Registers the Node and keeps it Ready: a status with conditions, addresses,
 * capacity and node info, and a Lease in kube-node-lease renewed every 10 s
 * (the node lifecycle controller evicts pods of a node whose Lease expires).
 *
 * @module
 */
import { delay } from "../../src/async/delay.ts";
import { isConflict, isNotFound, type RestClient } from "../../src/kube/client.ts";
import type { NodeLayout } from "../lib/layout.ts";

/** The kubelet API's port (kubelet_server.ts). */
export const kubeletPort = 10250;

/** How often the Lease is renewed and the status refreshed. */
const leaseRenewMs = 10_000;
const statusRefreshMs = 60_000;

/**
 * Creates the Node if it does not exist and reports its status once. Its zone
 * label (and region, one for the whole cluster) is what topology spreading
 * reads; spec.podCIDR says which pod addresses live behind it.
 */
export async function registerNode(
  client: RestClient,
  node: NodeLayout,
  version: string,
): Promise<void> {
  const nodeName = node.name;
  try {
    await client.request({
      method: "POST",
      path: "/api/v1/nodes",
      body: {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: nodeName,
          labels: {
            "kubernetes.io/hostname": nodeName,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": Deno.build.arch === "x86_64" ? "amd64" : "arm64",
            "node.kubernetes.io/instance-type": "local-node-agent",
            "topology.kubernetes.io/region": "local",
            "topology.kubernetes.io/zone": node.zone,
          },
        },
        spec: { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR] },
      },
    });
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
  await patchNodeStatus(client, node, version);
}

/** Renews the Lease and refreshes the status until `signal` aborts. */
export async function keepNodeAlive(
  client: RestClient,
  node: NodeLayout,
  version: string,
  signal: AbortSignal,
  onError: (error: unknown) => void,
): Promise<void> {
  let lastStatus = Date.now();
  while (!signal.aborted) {
    try {
      await renewLease(client, node.name);
      // As a kubelet checks every 10 s: once the node lifecycle controller has marked
      // the node NotReady or Unknown (it lost the API server for a while), Ready is
      // reported again at once, not at the next periodic refresh.
      if (Date.now() - lastStatus >= statusRefreshMs || !await isReady(client, node.name)) {
        await patchNodeStatus(client, node, version);
        lastStatus = Date.now();
      }
    } catch (error) {
      onError(error);
    }
    await delay(leaseRenewMs, signal).catch(() => {});
  }
}

async function isReady(client: RestClient, nodeName: string): Promise<boolean> {
  const current = await client.request<
    { status?: { conditions?: Array<{ type: string; status: string }> } }
  >({ path: `/api/v1/nodes/${nodeName}` });
  return current.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ??
    false;
}

async function renewLease(client: RestClient, nodeName: string): Promise<void> {
  const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`;
  // A MicroTime: microsecond precision.
  const renewTime = new Date().toISOString().replace("Z", "000Z");
  try {
    await client.request({
      method: "PATCH",
      path,
      contentType: "application/merge-patch+json",
      body: { spec: { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime } },
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await client.request({
      method: "POST",
      path: "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
      body: {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: nodeName, namespace: "kube-node-lease" },
        spec: { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime },
      },
    });
  }
}

async function patchNodeStatus(
  client: RestClient,
  node: NodeLayout,
  version: string,
): Promise<void> {
  const nodeName = node.name;
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  const cpus = String(navigator.hardwareConcurrency);
  const memory = `${Math.floor(Deno.systemMemoryInfo().total / 1024)}Ki`;
  const resources = { cpu: cpus, memory, pods: "110", "ephemeral-storage": "100Gi" };
  await client.request({
    method: "PATCH",
    path: `/api/v1/nodes/${nodeName}/status`,
    contentType: "application/strategic-merge-patch+json",
    body: {
      status: {
        conditions: [
          condition(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "node agent has sufficient memory available",
          ),
          condition(
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "node agent has no disk pressure",
          ),
          condition(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "node agent has sufficient PID available",
          ),
          condition("Ready", "True", "KubeletReady", "node agent is posting ready status"),
        ],
        addresses: [{ type: "InternalIP", address: node.ip }, {
          type: "Hostname",
          address: nodeName,
        }],
        capacity: resources,
        allocatable: resources,
        daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
        // The API server then passes kubectl's WebSocket exec and port-forward streams
        // through to the agent instead of translating them to SPDY (a v1.37 kubelet
        // declares this too; the agent declares only what it implements).
        declaredFeatures: ["ExtendWebSocketsToKubelet"],
        nodeInfo: {
          machineID: "",
          systemUUID: "",
          bootID: "",
          kernelVersion: Deno.osRelease(),
          osImage: "redis-operator local node agent",
          containerRuntimeVersion: "node-agent://0.1.0",
          kubeletVersion: version,
          kubeProxyVersion: "",
          operatingSystem: "linux",
          architecture: Deno.build.arch === "x86_64" ? "amd64" : "arm64",
        },
      },
    },
  });
}
