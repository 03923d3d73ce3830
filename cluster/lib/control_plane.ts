/**
 * The command lines of etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler, kube-proxy and our node agents for one local cluster. Pure: building the
 * commands does not start anything.
 *
 * @module
 */
import type { DaemonSpec } from "./daemon.ts";
import { type ClusterLayout, network, type NodeLayout } from "./layout.ts";
import { pkiFiles } from "./pki.ts";

/** What a component is; several nodes run the same kinds. */
export type ComponentKind =
  | "etcd"
  | "kube-apiserver"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "node-agent"
  | "kube-proxy";

/** A daemon of the cluster, and the node it belongs to (none: the control-plane host). */
export interface Component extends DaemonSpec {
  readonly kind: ComponentKind;
  readonly node?: NodeLayout;
}

/**
 * Builds every component, in start order: the control plane, each node's agent
 * and kube-proxy, run inside the node's network namespace, and a kube-proxy on
 * the control-plane host (where tests and `cluster exec` run, as on a kubeadm
 * control-plane node).
 */
export function buildComponents(
  layout: ClusterLayout,
  nodes: readonly NodeLayout[],
  binDir: string,
  denoPath: string,
): Component[] {
  const pki = pkiFiles(layout.pkiDir);
  const etcd: Component = {
    kind: "etcd",
    name: "etcd",
    command: [
      `${binDir}/etcd`,
      "--name=local",
      `--data-dir=${layout.stateDir}/etcd`,
      "--listen-client-urls=http://127.0.0.1:2379",
      "--advertise-client-urls=http://127.0.0.1:2379",
      "--listen-peer-urls=http://127.0.0.1:2380",
      "--initial-advertise-peer-urls=http://127.0.0.1:2380",
      "--initial-cluster=local=http://127.0.0.1:2380",
      // A throwaway test cluster: durability across power loss is not worth fsync latency.
      "--unsafe-no-fsync",
      "--log-level=warn",
    ],
  };
  const apiServer: Component = {
    kind: "kube-apiserver",
    name: "kube-apiserver",
    command: [
      `${binDir}/kube-apiserver`,
      "--etcd-servers=http://127.0.0.1:2379",
      `--advertise-address=${network.controlPlaneIP}`,
      "--bind-address=0.0.0.0",
      `--secure-port=${network.apiServerPort}`,
      `--tls-cert-file=${pki.apiServerCert}`,
      `--tls-private-key-file=${pki.apiServerKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--service-cluster-ip-range=${network.serviceRange}`,
      "--authorization-mode=Node,RBAC",
      // Reach the node agent's kubelet API as kubeadm configures it: by InternalIP,
      // verifying its serving certificate, with a client certificate of its own.
      "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
      `--kubelet-certificate-authority=${pki.caCert}`,
      `--kubelet-client-certificate=${pki.apiServerKubeletClientCert}`,
      `--kubelet-client-key=${pki.apiServerKubeletClientKey}`,
      "--allow-privileged=true",
      "--v=1",
    ],
  };
  const kubeconfigFlag = `--kubeconfig=${layout.kubeconfig}`;
  const controllerManager: Component = {
    kind: "kube-controller-manager",
    name: "kube-controller-manager",
    command: [
      `${binDir}/kube-controller-manager`,
      kubeconfigFlag,
      `--authentication-kubeconfig=${layout.kubeconfig}`,
      `--authorization-kubeconfig=${layout.kubeconfig}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      `--root-ca-file=${pki.caCert}`,
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      "--use-service-account-credentials=true",
      "--v=1",
    ],
  };
  const scheduler: Component = {
    kind: "kube-scheduler",
    name: "kube-scheduler",
    command: [
      `${binDir}/kube-scheduler`,
      kubeconfigFlag,
      `--authentication-kubeconfig=${layout.kubeconfig}`,
      `--authorization-kubeconfig=${layout.kubeconfig}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      "--v=1",
    ],
  };
  const inNode = (node: NodeLayout, command: string[]) => [
    "nsenter",
    `--net=/run/netns/${node.netns}`,
    "--",
    ...command,
  ];
  const nodeAgent = (node: NodeLayout): Component => ({
    kind: "node-agent",
    name: node.agentDaemon,
    node,
    command: inNode(node, [
      denoPath,
      "run",
      "--allow-all",
      `${layout.repoDir}/cluster/node_agent/main.ts`,
      `--cluster=${layout.name}`,
      `--node=${node.index}`,
      `--zones=${zonesOf(nodes)}`,
    ]),
    env: {
      ...Deno.env.toObject(),
      KUBECONFIG: layout.kubeconfig,
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    },
  });
  // kube-proxy in nftables mode with every sync setting at its default (minSyncPeriod
  // 1 s), so the delays measured here are those of a stock node. Only what a network
  // namespace cannot do is switched off: the conntrack table size and timeouts are
  // machine-wide sysctls (0 leaves them as they are). Its health port listens on the
  // node's address, where `cluster up` (on the control-plane host) checks it.
  const kubeProxy = (hostname: string, address: string): string[] => [
    `${binDir}/kube-proxy`,
    kubeconfigFlag,
    "--proxy-mode=nftables",
    `--hostname-override=${hostname}`,
    `--bind-address=${address}`,
    `--cluster-cidr=${network.podRange}`,
    "--conntrack-max-per-core=0",
    "--conntrack-tcp-timeout-established=0",
    "--conntrack-tcp-timeout-close-wait=0",
    "--metrics-bind-address=127.0.0.1:10249",
    `--healthz-bind-address=${address}:${kubeProxyHealthPort}`,
    "--v=1",
  ];
  // The control-plane host runs no kubelet, so it has no Node, and a kube-proxy without
  // its Node waits 30 s at start and then reports unhealthy. It takes the first node's
  // name instead, which changes nothing for the ClusterIP Services used here (only
  // node-local traffic policies read it), and starts once that Node exists.
  const controlPlaneProxy: Component = {
    kind: "kube-proxy",
    name: "kube-proxy",
    command: kubeProxy(nodes[0]!.name, network.controlPlaneIP),
  };
  return [
    etcd,
    apiServer,
    controllerManager,
    scheduler,
    ...nodes.flatMap((node) => [
      nodeAgent(node),
      {
        kind: "kube-proxy",
        name: node.proxyDaemon,
        node,
        command: inNode(node, kubeProxy(node.name, node.ip)),
      } satisfies Component,
    ]),
    controlPlaneProxy,
  ];
}

/** kube-proxy's health port (healthz answers once its rules are written). */
export const kubeProxyHealthPort = 10256;

/** How many zones the nodes span. */
function zonesOf(nodes: readonly NodeLayout[]): number {
  return new Set(nodes.map((n) => n.zone)).size;
}
