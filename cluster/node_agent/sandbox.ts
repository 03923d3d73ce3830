/**
 * A pod's network: its own namespace, joined to its node's bridge by a veth
 * pair, with one address from the node's pod range and a default route to the
 * bridge.
 *
 * @module
 */
import { network, type NodeLayout } from "../lib/layout.ts";
import { addVethPair, deleteNetns, ipIn } from "../lib/netns.ts";
import { run } from "../lib/run.ts";

/** Names of the host ends of pod links: `v` and 12 hex digits of the pod's uid. */
export const hostVethPattern = /^v[0-9a-f]{12}$/;

/** The host end's name for a pod. */
export function hostVethName(podUid: string): string {
  return `v${podUid.replace(/-/g, "").slice(0, 12)}`;
}

/** The network of one pod. */
export interface Sandbox {
  readonly netns: string;
  /** The host-side end, on the bridge; `link set down` cuts the pod off. */
  readonly hostVeth: string;
  readonly ip: string;
}

/**
 * Hands out pod addresses, never the same one twice in a row, so a stale
 * address in someone's cache does not silently reach a different pod. With a
 * `stateFile`, where it goes on from survives the agent (as host-local IPAM
 * keeps its allocations on disk): a node agent started again after a power
 * loss does not hand out its previous pods' addresses first.
 */
export class AddressAllocator {
  #inUse = new Set<number>();
  #next: number;
  readonly #first: number;
  readonly #last: number;

  readonly #stateFile: string | undefined;

  /** Addresses from `first` to the end of its `/prefixLength` network. */
  constructor(first: string, prefixLength: number, stateFile?: string) {
    this.#first = toNumber(first);
    const base = toNumber(first) & ~((1 << (32 - prefixLength)) - 1);
    this.#last = (base | ((1 << (32 - prefixLength)) - 2)) >>> 0;
    this.#next = this.#first;
    this.#stateFile = stateFile;
    if (stateFile) {
      try {
        const saved = toNumber(Deno.readTextFileSync(stateFile).trim());
        if (saved >= this.#first && saved <= this.#last) this.#next = saved;
      } catch { /* none saved yet */ }
    }
  }

  /** Returns a free address. */
  allocate(): string {
    for (let tries = this.#last - this.#first + 1; tries > 0; tries--) {
      const candidate = this.#next;
      this.#next = candidate >= this.#last ? this.#first : candidate + 1;
      if ((candidate & 0xff) === 0 || (candidate & 0xff) === 0xff) continue;
      if (!this.#inUse.has(candidate)) {
        this.#inUse.add(candidate);
        if (this.#stateFile) Deno.writeTextFileSync(this.#stateFile, `${toAddress(this.#next)}\n`);
        return toAddress(candidate);
      }
    }
    throw new Error("No pod address left in the pod range");
  }

  /** Gives an address back. */
  release(address: string): void {
    this.#inUse.delete(toNumber(address));
  }
}

function toNumber(address: string): number {
  return address.split(".").reduce((n, octet) => (n << 8) + Number(octet), 0) >>> 0;
}

function toAddress(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join(".");
}

/** Creates the pod's namespace and link; undoes what it did when a step fails. */
export async function createSandbox(
  node: NodeLayout,
  netns: string,
  hostVeth: string,
  ip: string,
): Promise<Sandbox> {
  try {
    await run(["ip", "netns", "add", netns]);
    await ipIn(netns, "link", "set", "lo", "up");
    await addVethPair(undefined, hostVeth, netns);
    await ipIn(undefined, "link", "set", hostVeth, "master", network.bridge, "up");
    // Hairpin, as the CNI bridge plugin sets it: a pod that reaches its own Service gets
    // its packet back through the port it came in on, after kube-proxy's DNAT.
    await ipIn(undefined, "link", "set", hostVeth, "type", "bridge_slave", "hairpin", "on");
    await ipIn(netns, "addr", "add", `${ip}/${node.podPrefixLength}`, "dev", "eth0");
    await ipIn(netns, "link", "set", "eth0", "up");
    await ipIn(netns, "route", "add", "default", "via", node.podGateway);
    return { netns, hostVeth, ip };
  } catch (error) {
    await deleteSandbox({ netns, hostVeth, ip });
    throw error;
  }
}

/** Removes the pod's namespace and both ends of its link. */
export async function deleteSandbox(sandbox: Sandbox): Promise<void> {
  await run(["ip", "link", "delete", sandbox.hostVeth], { allowFailure: true });
  await deleteNetns(sandbox.netns);
}
