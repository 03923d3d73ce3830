/**
 * Network namespaces: creating the cluster's, finding every one this tooling
 * made, and telling which processes live in them.
 *
 * @module
 */
import { run } from "./run.ts";

const netnsDir = "/run/netns";

/** Names of all named network namespaces on the machine. */
export async function listNetns(): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(netnsDir)) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

/** Does the named network namespace exist? */
export async function netnsExists(name: string): Promise<boolean> {
  return (await listNetns()).includes(name);
}

/** The inode that identifies a named namespace, or undefined when it is gone. */
export function netnsInode(name: string): number | undefined {
  try {
    return Deno.statSync(`${netnsDir}/${name}`).ino ?? undefined;
  } catch {
    return undefined;
  }
}

/** The network namespace inode of a process (default: this one). */
export function processNetnsInode(pid: number | "self" = "self"): number | undefined {
  try {
    const link = Deno.readLinkSync(`/proc/${pid}/ns/net`);
    const match = link.match(/net:\[(\d+)\]/);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Is this process running inside the named network namespace? */
export function isInsideNetns(name: string): boolean {
  const inode = netnsInode(name);
  return inode !== undefined && inode === processNetnsInode();
}

/** Pids of every process whose network namespace is one of `inodes`. */
export function pidsInNetns(inodes: Set<number>): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const inode = processNetnsInode(Number(entry.name));
    if (inode !== undefined && inodes.has(inode)) pids.push(Number(entry.name));
  }
  return pids;
}

/** Is a process with this pid alive (and not a zombie)? */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Runs `ip` inside a namespace (or the current one when `netns` is undefined). */
export function ipIn(netns: string | undefined, ...args: string[]): Promise<string> {
  return run(netns ? ["ip", "-n", netns, ...args] : ["ip", ...args]);
}

/**
 * Creates a veth pair: `hostEnd` in `netns` (undefined: the current one), its
 * peer `eth0` inside namespace `into`.
 */
export async function addVethPair(
  netns: string | undefined,
  hostEnd: string,
  into: string,
): Promise<void> {
  await ipIn(netns, "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", into);
}

/** Deletes a named namespace; the interfaces inside it go with it. */
export async function deleteNetns(name: string): Promise<void> {
  await run(["ip", "netns", "delete", name], { allowFailure: true });
}

/**
 * nsenter's arguments that run `command` in network namespace `netns` with
 * `resolvConf` as its /etc/resolv.conf, as a pod's processes see theirs. The
 * bind lives in a mount namespace of its own, a slave one, so the pod network
 * namespaces `ip netns` mounts later under /run/netns still appear in it (a
 * private one would see empty files).
 */
export function inNetnsWithResolvConf(
  netns: string,
  resolvConf: string,
  command: readonly string[],
): string[] {
  return [
    `--net=/run/netns/${netns}`,
    "--",
    "unshare",
    "--mount",
    "--propagation=slave",
    "--",
    "sh",
    "-c",
    'mount --bind "$0" /etc/resolv.conf && exec "$@"',
    resolvConf,
    ...command,
  ];
}
