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
      // The default admission plugins stay on; the `kubernetes` Service endpoints
      // would name an address pods reach directly anyway, so nobody maintains them.
      "--endpoint-reconciler-type=none",
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
  return [etcd, apiServer, controllerManager, scheduler, nodeAgent];
}
