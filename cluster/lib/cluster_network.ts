/**
 * The local cluster's network: the control-plane host's namespace routes
 * between node namespaces, each joined to it by one veth pair and holding a
 * bridge for its pods. A node fault is a set of drop rules on the node's link,
 * so nothing, not even a reset, crosses it.
 *
 * @module
 */
import { type ClusterLayout, network, type NodeLayout } from "./layout.ts";
import { addVethPair, deleteNetns, ipIn, netnsExists } from "./netns.ts";
import { run } from "./run.ts";

/** Creates the control-plane host's namespace and every node's that is missing. */
export async function createClusterNetwork(
  layout: ClusterLayout,
  nodes: readonly NodeLayout[],
): Promise<void> {
  if (!await netnsExists(layout.netns)) await createControlPlaneHost(layout);
  for (const node of nodes) {
    if (!await netnsExists(node.netns)) await createNode(layout, node);
  }
}

async function createControlPlaneHost(layout: ClusterLayout): Promise<void> {
  const ns = layout.netns;
  await run(["ip", "netns", "add", ns]);
  try {
    await ipIn(ns, "link", "set", "lo", "up");
    // The API server's address lives on an interface of its own, so it stays up
    // whichever node links are cut.
    await ipIn(ns, "link", "add", network.bridge, "type", "bridge");
    await ipIn(ns, "addr", "add", `${network.controlPlaneIP}/32`, "dev", network.bridge);
    await ipIn(ns, "link", "set", network.bridge, "up");
    // ClusterIPs need a route for the host's own connections to reach kube-proxy's NAT
    // (a real host has its default route); nothing is translated beyond it.
    await ipIn(ns, "route", "add", network.serviceRange, "dev", network.bridge);
    await sysctl(ns, "net.ipv4.ip_forward=1");
  } catch (error) {
    await deleteNetns(ns);
    throw error;
  }
}

async function createNode(layout: ClusterLayout, node: NodeLayout): Promise<void> {
  const ns = node.netns;
  await run(["ip", "netns", "add", ns]);
  try {
    await ipIn(ns, "link", "set", "lo", "up");
    await addVethPair(layout.netns, node.uplink, ns);
    await ipIn(layout.netns, "link", "set", node.uplink, "up");
    await ipIn(layout.netns, "route", "add", `${node.ip}/32`, "dev", node.uplink);
    await ipIn(layout.netns, "route", "add", node.podCIDR, "via", node.ip, "dev", node.uplink);
    await ipIn(ns, "addr", "add", `${node.ip}/32`, "dev", "eth0");
    await ipIn(ns, "link", "set", "eth0", "up");
    await ipIn(ns, "route", "add", `${network.controlPlaneIP}/32`, "dev", "eth0");
    await ipIn(ns, "route", "add", "default", "via", network.controlPlaneIP, "dev", "eth0");
    await ipIn(ns, "link", "add", network.bridge, "type", "bridge");
    await ipIn(
      ns,
      "addr",
      "add",
      `${node.podGateway}/${node.podPrefixLength}`,
      "dev",
      network.bridge,
    );
    await ipIn(ns, "link", "set", network.bridge, "up");
    // As on a node: pod traffic to a ClusterIP or another node is routed (forwarding on),
    // and bridged pod-to-pod replies pass netfilter, so kube-proxy's NAT is undone on the
    // way back.
    await sysctl(ns, "net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1");
  } catch (error) {
    await run(["ip", "-n", layout.netns, "link", "delete", node.uplink], { allowFailure: true });
    await deleteNetns(ns);
    throw error;
  }
}

function sysctl(netns: string, ...settings: string[]): Promise<string> {
  return run(["nsenter", `--net=/run/netns/${netns}`, "sysctl", "-qw", ...settings]);
}

/** The nftables table holding one node's cut. */
function cutTable(node: NodeLayout): string {
  return `rop_cut_n${node.index}`;
}

/**
 * Cuts the node off the control-plane host and every other node: whatever
 * crosses its link is dropped in both directions, silently (no reset, no ICMP),
 * as when a machine loses power or its network. Traffic inside the node goes on.
 */
export async function cutNode(layout: ClusterLayout, node: NodeLayout): Promise<void> {
  const link = JSON.stringify(node.uplink);
  const chain = (hook: string, rules: string[]) =>
    `  chain ${hook} {\n    type filter hook ${hook} priority filter - 10; policy accept;\n${
      rules.map((r) => `    ${r}\n`).join("")
    }  }\n`;
  // One transaction: the table is made (if missing), emptied and filled, so a node already
  // cut (a partition turned into a power loss) never passes a packet in between.
  const table = `inet ${cutTable(node)}`;
  const script = `table ${table}\ndelete table ${table}\ntable ${table} {\n${
    chain("forward", [`iifname ${link} drop`, `oifname ${link} drop`])
  }${chain("input", [`iifname ${link} drop`])}${chain("output", [`oifname ${link} drop`])}}\n`;
  await run(["nsenter", `--net=/run/netns/${layout.netns}`, "nft", "-f", "-"], { stdin: script });
}

/** Lifts a cut made by {@linkcode cutNode}; nothing happens when there is none. */
export async function restoreNode(layout: ClusterLayout, node: NodeLayout): Promise<void> {
  await run(
    [
      "nsenter",
      `--net=/run/netns/${layout.netns}`,
      "nft",
      "delete",
      "table",
      "inet",
      cutTable(node),
    ],
    { allowFailure: true },
  );
}

/** Is the node cut off now? */
export async function isNodeCut(layout: ClusterLayout, node: NodeLayout): Promise<boolean> {
  const tables = await run([
    "nsenter",
    `--net=/run/netns/${layout.netns}`,
    "nft",
    "list",
    "tables",
  ]);
  return tables.split("\n").some((line) => line.trim() === `table inet ${cutTable(node)}`);
}
