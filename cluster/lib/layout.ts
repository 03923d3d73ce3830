/**
 * Names and places of one local cluster: its network namespaces, addresses,
 * state folder and binaries. Everything the tooling creates is derived from the
 * cluster name here, so `down` can find all of it again even after a crash.
 *
 * @module
 */

/** The address plan. All of it lies in 198.18.0.0/15, the range reserved for benchmarking. */
export const network = {
  /** The bridge inside the cluster namespace; the API server and node listen here. */
  gateway: "198.18.0.1",
  prefixLength: 16,
  /** Pod addresses are handed out from 198.18.1.1 upwards. */
  podRangeStart: "198.18.1.1",
  /** Pods and the node itself (kube-proxy's cluster CIDR). */
  podRange: "198.18.0.0/16",
  /** ClusterIPs of Services, translated by kube-proxy inside the cluster namespace. */
  serviceRange: "198.19.0.0/16",
  /** The `kubernetes` Service's ClusterIP, the first of the range. */
  apiServerClusterIP: "198.19.0.1",
  /** The cluster DNS Service (kube-dns) ClusterIP, as kubeadm picks it: the tenth. */
  dnsClusterIP: "198.19.0.10",
  /** The cluster domain, kubelet's default. */
  clusterDomain: "cluster.local",
  bridge: "rop0",
  apiServerPort: 6443,
} as const;

/** Everything about one named local cluster. */
export interface ClusterLayout {
  readonly name: string;
  /** The network namespace holding the bridge and all control-plane processes. */
  readonly netns: string;
  /** Prefix of every pod network namespace of this cluster. */
  readonly podNetnsPrefix: string;
  readonly nodeName: string;
  readonly repoDir: string;
  readonly stateDir: string;
  readonly pkiDir: string;
  readonly logDir: string;
  readonly pidDir: string;
  readonly podsDir: string;
  readonly volumesDir: string;
  readonly kubeconfig: string;
  readonly apiServerUrl: string;
}

/** Repository root, derived from this file's location. */
export const repoDir = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * Derives the layout of the cluster called `name` (default `local`).
 *
 * @example
 * ```ts
 * const layout = clusterLayout("local");
 * console.assert(layout.netns === "rop-local");
 * ```
 */
export function clusterLayout(name = "local"): ClusterLayout {
  if (!/^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/.test(name)) {
    throw new Error(`Invalid cluster name: ${name}: use 1-20 lowercase letters, digits or dashes`);
  }
  const stateDir = `${repoDir}/.cluster/${name}`;
  return {
    name,
    netns: `rop-${name}`,
    podNetnsPrefix: `rop-${name}-pod-`,
    nodeName: `${name}-node`,
    repoDir,
    stateDir,
    pkiDir: `${stateDir}/pki`,
    logDir: `${stateDir}/logs`,
    pidDir: `${stateDir}/pids`,
    podsDir: `${stateDir}/pods`,
    volumesDir: `${stateDir}/volumes`,
    kubeconfig: `${stateDir}/kubeconfig`,
    apiServerUrl: `https://${network.gateway}:${network.apiServerPort}`,
  };
}
