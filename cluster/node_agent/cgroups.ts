/**
 * Memory and CPU limits as a kubelet enforces them, on this machine's cgroup
 * v1 memory and cpu controllers: one cgroup per container start, under the
 * node agent's own (so a cluster never touches cgroups it did not make).
 * `limits.memory` becomes `memory.limit_in_bytes`, and the kernel's OOM killer
 * ends a container that goes over it (reported `OOMKilled`); `limits.cpu`
 * becomes a CFS quota per 100 ms period, and `requests.cpu` the CPU shares.
 *
 * Under CPU contention what matters is the weights, so every container gets a
 * cpu cgroup as on a kubelet: under the node's pods cgroup (the node's CPUs
 * × 1024 shares), a container with a CPU request at its request's shares, one
 * without in a best-effort group of 2 shares. Left in the agent's own cgroup,
 * each best-effort process had weighed as much as a whole core: 150 Redis
 * processes outweighed the operator (50m requested, 51 shares) and starved it
 * for seconds during a mass failover, until it lost its Lease.
 *
 * @module
 */
import type { Container } from "kubernetes-types/core/v1.d.ts";
import { parseQuantity } from "../../src/decide/drift.ts";

/** What one container's cgroups enforce. */
export interface CgroupLimits {
  readonly memoryBytes?: number;
  /** CFS quota in µs per {@linkcode cfsPeriodUs}. */
  readonly cpuQuotaUs?: number;
  readonly cpuShares?: number;
}

/** The CFS period a kubelet uses. */
export const cfsPeriodUs = 100_000;

/**
 * The limits of `container` as a kubelet sets them: memory limit in bytes,
 * CPU limit as a quota (at least 1 ms per period), CPU request as shares
 * (1024 per core, at least 2). Pure.
 *
 * @example
 * ```ts
 * containerLimits({ name: "r", resources: { limits: { memory: "64Mi", cpu: "500m" } } });
 * // { memoryBytes: 67108864, cpuQuotaUs: 50000, cpuShares: 512 }
 * ```
 */
export function containerLimits(container: Container): CgroupLimits {
  const read = (value: unknown) =>
    typeof value === "number"
      ? value
      : typeof value === "string"
      ? parseQuantity(value)
      : undefined;
  const memory = read(container.resources?.limits?.memory);
  const cpuLimit = read(container.resources?.limits?.cpu);
  // As the API server defaults it: a limit without a request requests the limit.
  const cpuRequest = read(container.resources?.requests?.cpu) ?? cpuLimit;
  return {
    ...(memory !== undefined && memory > 0 ? { memoryBytes: Math.floor(memory) } : {}),
    ...(cpuLimit !== undefined && cpuLimit > 0
      ? { cpuQuotaUs: Math.max(1000, Math.round(cpuLimit * cfsPeriodUs)) }
      : {}),
    ...(cpuRequest !== undefined && cpuRequest > 0
      ? { cpuShares: Math.max(2, Math.round(cpuRequest * 1024)) }
      : {}),
  };
}

/** The agent's own cgroup of a v1 controller, from /proc/self/cgroup; undefined without it. */
async function ownCgroup(controller: "memory" | "cpu"): Promise<string | undefined> {
  const lines = (await Deno.readTextFile("/proc/self/cgroup").catch(() => "")).split("\n");
  for (const line of lines) {
    const [, controllers, path] = line.split(":");
    if (controllers?.split(",").includes(controller)) {
      const dir = `/sys/fs/cgroup/${controller}${path === "/" ? "" : path}`;
      try {
        await Deno.stat(`${dir}/cgroup.procs`);
        return dir;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Where a node's containers go in the cpu hierarchy. */
export interface PodsCgroup {
  /** The name of the node's pods cgroup under the agent's own (unique per node). */
  readonly name: string;
  /** Its CPU shares: the node's CPUs × 1024, as a kubelet gives `kubepods`. */
  readonly cpuShares: number;
}

/** The best-effort group's shares, a kubelet's minimum. */
export const bestEffortShares = 2;

/** The cgroups of one container start. */
export class ContainerCgroup {
  private constructor(
    /** The directories to put the process in. */
    readonly dirs: readonly string[],
    private readonly memoryDir: string | undefined,
  ) {}

  /**
   * Makes the cgroups for `name` (unique per start) under the agent's own, with
   * `limits` set; with `pods`, the cpu cgroup always, under the node's pods
   * cgroup (see the module's comment). Undefined when there is nothing to
   * enforce or no controller.
   */
  static async create(
    name: string,
    limits: CgroupLimits,
    pods?: PodsCgroup,
  ): Promise<ContainerCgroup | undefined> {
    const dirs: string[] = [];
    let memoryDir: string | undefined;
    if (limits.memoryBytes !== undefined) {
      const base = await ownCgroup("memory");
      if (base) {
        memoryDir = `${base}/${name}`;
        await Deno.mkdir(memoryDir, { recursive: true });
        await Deno.writeTextFile(`${memoryDir}/memory.limit_in_bytes`, String(limits.memoryBytes));
        // No swap beyond the limit where the kernel accounts it, as with a kubelet's default.
        await Deno.writeTextFile(`${memoryDir}/memory.swappiness`, "0").catch(() => {});
        dirs.push(memoryDir);
      }
    }
    if (pods || limits.cpuQuotaUs !== undefined || limits.cpuShares !== undefined) {
      const own = await ownCgroup("cpu");
      const base = own && pods ? await podsParent(own, pods, limits) : own;
      if (base) {
        const dir = `${base}/${name}`;
        await Deno.mkdir(dir, { recursive: true });
        await Deno.writeTextFile(`${dir}/cpu.cfs_period_us`, String(cfsPeriodUs));
        await Deno.writeTextFile(`${dir}/cpu.cfs_quota_us`, String(limits.cpuQuotaUs ?? -1));
        if (limits.cpuShares !== undefined) {
          await Deno.writeTextFile(`${dir}/cpu.shares`, String(limits.cpuShares));
        }
        dirs.push(dir);
      }
    }
    return dirs.length ? new ContainerCgroup(dirs, memoryDir) : undefined;
  }

  /** Did the kernel's OOM killer end a process of this cgroup (it went over its memory limit)? */
  async oomKilled(): Promise<boolean> {
    if (!this.memoryDir) return false;
    const control = await Deno.readTextFile(`${this.memoryDir}/memory.oom_control`).catch(() => "");
    return Number(control.match(/^oom_kill (\d+)$/m)?.[1] ?? 0) > 0;
  }

  /** Removes the cgroups once their processes have ended (retried: the kernel lets go late). */
  async remove(): Promise<void> {
    for (const dir of this.dirs) {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          await Deno.remove(dir);
          break;
        } catch (error) {
          if (error instanceof Deno.errors.NotFound) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  }
}

/** The node's pods cgroup, or its best-effort group for a container without a CPU request. */
async function podsParent(own: string, pods: PodsCgroup, limits: CgroupLimits): Promise<string> {
  const podsDir = `${own}/${pods.name}`;
  await Deno.mkdir(podsDir, { recursive: true });
  await Deno.writeTextFile(`${podsDir}/cpu.shares`, String(pods.cpuShares));
  if (limits.cpuShares !== undefined) return podsDir;
  const bestEffort = `${podsDir}/besteffort`;
  await Deno.mkdir(bestEffort, { recursive: true });
  await Deno.writeTextFile(`${bestEffort}/cpu.shares`, String(bestEffortShares));
  return bestEffort;
}

/**
 * Removes the empty cgroups whose names start with `prefix` (a node's or a
 * cluster's: what a crashed agent or `cluster down` leaves), searched a few
 * levels deep in the memory and cpu hierarchies: `down` may run from another
 * cgroup than the agent did. A cgroup with processes left is kept.
 */
export async function removeCgroups(prefix: string): Promise<number> {
  let removed = 0;
  const visit = async (dir: string, depth: number): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory) continue;
      const path = `${dir}/${entry.name}`;
      if (entry.name.startsWith(prefix)) {
        removed += await removeTree(path);
      } else if (depth > 0) {
        await visit(path, depth - 1);
      }
    }
  };
  for (const controller of ["memory", "cpu"]) await visit(`/sys/fs/cgroup/${controller}`, 3);
  return removed;
}

/** Removes a cgroup and the cgroups under it, deepest first; how many went. */
async function removeTree(dir: string): Promise<number> {
  let removed = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) removed += await removeTree(`${dir}/${entry.name}`);
    }
  } catch {
    return removed; // removed meanwhile (another agent's cleanup), or never there
  }
  return await Deno.remove(dir).then(() => removed + 1, () => removed);
}
