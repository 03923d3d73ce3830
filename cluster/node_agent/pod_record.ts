/**
 * The node agent's record of a running pod on disk: which network namespace,
 * host-side interface and address it has, and the pid of each container. The
 * cluster CLI reads it to inject faults.
 *
 * @module
 */

/** What `cluster fault` needs to know about a pod. */
export interface PodRecord {
  namespace: string;
  name: string;
  uid: string;
  netns: string;
  hostVeth: string;
  ip: string;
  /** Container name to the pid of its current process. */
  containers: Record<string, number>;
}

/** The folder of one pod below the agent's pods folder. */
export function podDirName(namespace: string, name: string, uid: string): string {
  return `${namespace}_${name}_${uid.slice(0, 8)}`;
}

/** Writes the record atomically. */
export async function writePodRecord(podDir: string, record: PodRecord): Promise<void> {
  await Deno.writeTextFile(`${podDir}/record.json.tmp`, JSON.stringify(record, null, 2));
  await Deno.rename(`${podDir}/record.json.tmp`, `${podDir}/record.json`);
}

/** Finds the record of the current incarnation of `namespace/name`, if it runs. */
export async function readPodRecord(
  podsDir: string,
  namespace: string,
  name: string,
): Promise<PodRecord | undefined> {
  return (await newestPodRecord([podsDir], namespace, name))?.record;
}

/**
 * The newest record of `namespace/name` in any of `podsDirs` (one per node),
 * with its folder: a node that lost power keeps its pods' folders until it
 * comes back, while the pod may run again elsewhere.
 */
export async function newestPodRecord(
  podsDirs: readonly string[],
  namespace: string,
  name: string,
): Promise<{ record: PodRecord; podsDir: string } | undefined> {
  let newest: { record: PodRecord; mtime: number; podsDir: string } | undefined;
  for (const podsDir of podsDirs) {
    try {
      await newestIn(podsDir);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return newest && { record: newest.record, podsDir: newest.podsDir };

  async function newestIn(podsDir: string) {
    for await (const entry of Deno.readDir(podsDir)) {
      if (!entry.name.startsWith(`${namespace}_${name}_`)) continue;
      const path = `${podsDir}/${entry.name}/record.json`;
      try {
        const mtime = (await Deno.stat(path)).mtime?.getTime() ?? 0;
        const record = JSON.parse(await Deno.readTextFile(path)) as PodRecord;
        if (!newest || mtime > newest.mtime) newest = { record, mtime, podsDir };
      } catch { /* a pod being set up or torn down */ }
    }
  }
}
