/**
 * Partial partitions of one pod: packets between the pod and a set of peer
 * addresses are dropped in both directions, silently (no reset, no ICMP), while
 * every other peer still reaches it. Jepsen-style asymmetric faults (issue 12):
 * a master cut from the operator only, or from its replicas only.
 *
 * The rules live in the pod's own network namespace, so they follow the pod
 * and die with it.
 *
 * @module
 */
import { run } from "./run.ts";

/** The nftables table holding a pod's partial cut. */
const table = "inet rop_pod_cut";

/** An IPv4 address, as the rules take it (peers are pod IPs). */
const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The nft script that replaces any cut of the pod with one from `peers`. Pure. */
export function podCutScript(peers: readonly string[]): string {
  for (const peer of peers) {
    if (!ipv4.test(peer)) throw new Error(`Not an IPv4 address: ${JSON.stringify(peer)}`);
  }
  if (peers.length === 0) throw new Error("A cut needs at least one peer address");
  const set = `{ ${peers.join(", ")} }`;
  // One transaction: made if missing, emptied, filled, so a changed cut never opens in between.
  return `table ${table}\ndelete table ${table}\ntable ${table} {\n` +
    `  chain input {\n    type filter hook input priority filter - 10; policy accept;\n` +
    `    ip saddr ${set} drop\n  }\n` +
    `  chain output {\n    type filter hook output priority filter - 10; policy accept;\n` +
    `    ip daddr ${set} drop\n  }\n}\n`;
}

/** Cuts the pod in network namespace `netns` from `peers` (replacing an earlier cut). */
export async function cutPodFrom(netns: string, peers: readonly string[]): Promise<void> {
  await run(["nsenter", `--net=/run/netns/${netns}`, "nft", "-f", "-"], {
    stdin: podCutScript(peers),
  });
}

/** Lifts a cut made by {@linkcode cutPodFrom}; nothing happens when there is none. */
export async function restorePodCut(netns: string): Promise<void> {
  await run(
    ["nsenter", `--net=/run/netns/${netns}`, "nft", "delete", "table", ...table.split(" ")],
    { allowFailure: true },
  );
}
