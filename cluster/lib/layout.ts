/**
 * Names and places of one local cluster: its network namespaces, addresses,
 * state folder and binaries. Everything the tooling creates is derived from the
 * cluster name here, so `down` can find all of it again even after a crash.
 *
 * @module
 */

/**
 * The address plan. All of it lies in 198.18.0.0/15, the range reserved for benchmarking.
 *
 * The cluster namespace is the control-plane host: it holds the API server at
 * {@linkcode network.controlPlaneIP} and routes between the nodes, each of which
 * is a namespace of its own joined to it by one point-to-point link (see
 * {@linkcode nodeLayout}). Node k's pods get addresses from 198.18.(16k).0/20
 * behind a bridge on that node, so traffic between nodes always crosses the
 * control-plane host, where a node fault drops it.
 */
export const network = {
  /** The control-plane host's address: the API server listens here. */
  controlPlaneIP: "198.18.0.1",
  /** Pods of every node (kube-proxy's cluster CIDR). */
  podRange: "198.18.0.0/16",
  /** ClusterIPs of Services, translated by kube-proxy on every node and the control-plane host. */
  serviceRange: "198.19.0.0/16",
  /** The `kubernetes` Service's ClusterIP, the first of the range. */
  apiServerClusterIP: "198.19.0.1",
  /** The cluster DNS Service (kube-dns) ClusterIP, as kubeadm picks it: the tenth. */
  dnsClusterIP: "198.19.0.10",
  /** The cluster domain, kubelet's default. */
  clusterDomain: "cluster.local",
  /** The pod bridge on each node, and the control-plane host's own interface. */
  bridge: "rop0",
  apiServerPort: 6443,
  /** Most nodes a cluster can have: node pod ranges are 198.18.16.0/20 to 198.18.240.0/20. */
  maxNodes: 15,
} as const;

/** One node of a local cluster: a network namespace with its node agent, kube-proxy and pods. */
export interface NodeLayout {
  /** 1-based. */
  readonly index: number;
  /** The Node object's name. */
  readonly name: string;
  /** `topology.kubernetes.io/zone`. */
  readonly zone: string;
  /** The node's network namespace. */
  readonly netns: string;
  /** Prefix of the network namespaces of this node's pods. */
  readonly podNetnsPrefix: string;
  /** The link's end in the cluster namespace; a node fault drops what passes it. */
  readonly uplink: string;
  /** The node's InternalIP: its kubelet API and kube-proxy health listen here. */
  readonly ip: string;
  /** This node's pods' addresses (the Node's spec.podCIDR). */
  readonly podCIDR: string;
  /** The bridge's address on the node, the pods' default gateway. */
  readonly podGateway: string;
  /** The first address handed to a pod. */
  readonly podRangeStart: string;
  readonly podPrefixLength: number;
  /** The node's own state: what survives its agent (the next pod address). */
  readonly stateDir: string;
  /** The node agent's records of running pods. */
  readonly podsDir: string;
  /** Daemon names of its node agent and kube-proxy. */
  readonly agentDaemon: string;
  readonly proxyDaemon: string;
}

/** Everything about one named local cluster. */
export interface ClusterLayout {
  readonly name: string;
  /** The network namespace of the control-plane host, which routes between the nodes. */
  readonly netns: string;
  readonly repoDir: string;
  readonly stateDir: string;
  readonly pkiDir: string;
  readonly logDir: string;
  readonly pidDir: string;
  readonly volumesDir: string;
  readonly kubeconfig: string;
  readonly apiServerUrl: string;
  /** Where `up` records the number of nodes and zones, for every later command. */
  readonly topologyFile: string;
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
    repoDir,
    stateDir,
    pkiDir: `${stateDir}/pki`,
    logDir: `${stateDir}/logs`,
    pidDir: `${stateDir}/pids`,
    volumesDir: `${stateDir}/volumes`,
    kubeconfig: `${stateDir}/kubeconfig`,
    apiServerUrl: `https://${network.controlPlaneIP}:${network.apiServerPort}`,
    topologyFile: `${stateDir}/topology.json`,
  };
}

/** How many nodes a cluster has, and over how many zones they are spread. */
export interface Topology {
  readonly nodes: number;
  readonly zones: number;
}

/** The local cluster's default: three nodes, each in a zone of its own. */
export const defaultTopology: Topology = { nodes: 3, zones: 3 };

/** Checks a topology asked for on the command line; returns why it is refused. */
export function topologyProblem(topology: Topology): string | undefined {
  const { nodes, zones } = topology;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > network.maxNodes) {
    return `--nodes must be a whole number from 1 to ${network.maxNodes}`;
  }
  if (!Number.isInteger(zones) || zones < 1 || zones > nodes) {
    return "--zones must be a whole number from 1 to the number of nodes";
  }
  return undefined;
}

/**
 * Derives node `index` (1-based) of a cluster whose nodes spread over `zones`
 * zones (node k is in zone (k-1) mod zones: zone-a, zone-b, ...). A dot
 * separates node and pod namespaces from the cluster's, as no cluster name
 * holds one: `down` finds everything of cluster "a" without touching "a-b".
 *
 * @example
 * ```ts
 * const node = nodeLayout(clusterLayout("demo"), 2, 3);
 * console.assert(node.name === "demo-node-2" && node.ip === "198.18.0.12");
 * ```
 */
export function nodeLayout(layout: ClusterLayout, index: number, zones: number): NodeLayout {
  if (!Number.isInteger(index) || index < 1 || index > network.maxNodes) {
    throw new Error(`Invalid node index ${index}: nodes are numbered 1 to ${network.maxNodes}`);
  }
  const netns = `${layout.netns}.n${index}`;
  const name = `${layout.name}-node-${index}`;
  const podBase = `198.18.${16 * index}`;
  return {
    index,
    name,
    zone: `zone-${String.fromCharCode(97 + (index - 1) % zones)}`,
    netns,
    podNetnsPrefix: `${netns}.pod-`,
    uplink: `rop-n${index}`,
    ip: `198.18.0.${10 + index}`,
    podCIDR: `${podBase}.0/20`,
    podGateway: `${podBase}.1`,
    podRangeStart: `${podBase}.2`,
    podPrefixLength: 20,
    stateDir: `${layout.stateDir}/nodes/${name}`,
    podsDir: `${layout.stateDir}/nodes/${name}/pods`,
    agentDaemon: `node-agent-${index}`,
    proxyDaemon: `kube-proxy-${index}`,
  };
}

/** Every node of the cluster, as recorded by `up`. */
export function clusterNodes(layout: ClusterLayout, topology: Topology): NodeLayout[] {
  return Array.from(
    { length: topology.nodes },
    (_, i) => nodeLayout(layout, i + 1, topology.zones),
  );
}

/** The topology `up` recorded; undefined before the first `up`. */
export function readTopology(layout: ClusterLayout): Topology | undefined {
  try {
    const recorded = JSON.parse(Deno.readTextFileSync(layout.topologyFile)) as Topology;
    return topologyProblem(recorded) ? undefined : recorded;
  } catch {
    return undefined;
  }
}

/** The nodes of a cluster that was brought up (one node for a state from before nodes). */
export function recordedNodes(layout: ClusterLayout): NodeLayout[] {
  return clusterNodes(layout, readTopology(layout) ?? { nodes: 1, zones: 1 });
}

/** Is `netns` the cluster's own namespace, or one of its nodes' or pods'? */
export function belongsToCluster(layout: ClusterLayout, netns: string): boolean {
  return netns === layout.netns || netns.startsWith(`${layout.netns}.`);
}
