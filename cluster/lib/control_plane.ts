/**
 * The command lines of etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler and our node agent for one local cluster. Pure: building the
 * commands does not start anything.
 *
 * @module
 */
import type { DaemonSpec } from "./daemon.ts";
import { type ClusterLayout, network } from "./layout.ts";
import { pkiFiles } from "./pki.ts";

/** The order components start in; `down` stops them in reverse. */
export const componentNames = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "node-agent",
  "kube-proxy",
] as const;

/** One of {@linkcode componentNames}. */
export type ComponentName = typeof componentNames[number];

/** Builds the daemon spec of every control-plane component, in start order. */
export function buildComponents(
  layout: ClusterLayout,
  binDir: string,
  denoPath: string,
): DaemonSpec[] {
  const pki = pkiFiles(layout.pkiDir);
  const etcd: DaemonSpec = {
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
  const apiServer: DaemonSpec = {
    name: "kube-apiserver",
    command: [
      `${binDir}/kube-apiserver`,
      "--etcd-servers=http://127.0.0.1:2379",
      `--advertise-address=${network.gateway}`,
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
  const controllerManager: DaemonSpec = {
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
  const scheduler: DaemonSpec = {
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
  const nodeAgent: DaemonSpec = {
    name: "node-agent",
    command: [
      denoPath,
      "run",
      "--allow-all",
      `${layout.repoDir}/cluster/node_agent/main.ts`,
      `--cluster=${layout.name}`,
    ],
    env: {
      ...Deno.env.toObject(),
      KUBECONFIG: layout.kubeconfig,
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    },
  };
  // kube-proxy in nftables mode with every sync setting at its default (minSyncPeriod
  // 1 s), so the delays measured here are those of a stock node. Only what a network
  // namespace cannot do is switched off: the conntrack table size and timeouts are
  // machine-wide sysctls (0 leaves them as they are).
  const kubeProxy: DaemonSpec = {
    name: "kube-proxy",
    command: [
      `${binDir}/kube-proxy`,
      kubeconfigFlag,
      "--proxy-mode=nftables",
      `--hostname-override=${layout.nodeName}`,
      `--cluster-cidr=${network.podRange}`,
      "--conntrack-max-per-core=0",
      "--conntrack-tcp-timeout-established=0",
      "--conntrack-tcp-timeout-close-wait=0",
      "--metrics-bind-address=127.0.0.1:10249",
      "--healthz-bind-address=127.0.0.1:10256",
      "--v=1",
    ],
  };
  return [etcd, apiServer, controllerManager, scheduler, nodeAgent, kubeProxy];
}
