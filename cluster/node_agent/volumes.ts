/**
 * Materialises a pod's volumes into host folders: ConfigMap, Secret,
 * downward API and projected volumes (with service-account tokens from the
 * TokenRequest API) are written as files, emptyDir is a folder, claims resolve
 * to the bound PersistentVolume's host folder.
 *
 * ConfigMap and Secret volumes are written as a kubelet's atomic writer does:
 * the files live in a timestamped folder, `..data` links to it and each key
 * links into `..data`, so {@linkcode refreshVolumes} swaps every key at once
 * for a running container (a new certificate never meets an old key).
 *
 * @module
 */
import type { DownwardAPIVolumeFile, KeyToPath, Pod, Volume } from "kubernetes-types/core/v1.d.ts";
import type { RestClient } from "../../src/kube/client.ts";
import { readConfigMapData, readSecretData, resolveClaimPath } from "./api_objects.ts";
import { MissingReferenceError, type PodAddresses, podField } from "./env.ts";

/**
 * Writes the ConfigMap and Secret volumes of a running `pod` again from the
 * API server, as a kubelet's periodic sync does; a volume that cannot be read
 * now keeps what it had.
 */
export async function refreshVolumes(
  client: RestClient,
  pod: Pod,
  podDir: string,
  addresses: PodAddresses,
): Promise<void> {
  for (const volume of pod.spec?.volumes ?? []) {
    if (!volume.configMap && !volume.secret) continue;
    try {
      const path = await materializeVolume(
        client,
        pod,
        volume,
        `${podDir}/volumes/${volume.name}`,
        addresses,
      );
      const fsGroup = pod.spec?.securityContext?.fsGroup;
      if (fsGroup !== undefined) await chownGroup(path, fsGroup);
    } catch {
      // As a kubelet: the next sync tries again.
    }
  }
}

/** Host folder of each volume, by volume name. */
export type VolumePaths = Map<string, string>;

/** Writes (or refreshes) every volume of `pod` below `podDir/volumes`. */
export async function materializeVolumes(
  client: RestClient,
  pod: Pod,
  podDir: string,
  addresses: PodAddresses,
): Promise<VolumePaths> {
  const paths: VolumePaths = new Map();
  for (const volume of pod.spec?.volumes ?? []) {
    paths.set(
      volume.name,
      await materializeVolume(client, pod, volume, `${podDir}/volumes/${volume.name}`, addresses),
    );
  }
  const fsGroup = pod.spec?.securityContext?.fsGroup;
  if (fsGroup !== undefined) {
    for (const [name, path] of paths) {
      const volume = pod.spec?.volumes?.find((v) => v.name === name);
      if (volume?.hostPath) continue;
      await chownGroup(path, fsGroup);
    }
  }
  return paths;
}

async function materializeVolume(
  client: RestClient,
  pod: Pod,
  volume: Volume,
  dir: string,
  addresses: PodAddresses,
): Promise<string> {
  const namespace = pod.metadata?.namespace ?? "default";
  if (volume.emptyDir) {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.chmod(dir, 0o777);
    return dir;
  }
  if (volume.hostPath) return volume.hostPath.path;
  if (volume.persistentVolumeClaim) {
    const resolved = await resolveClaimPath(
      client,
      namespace,
      volume.persistentVolumeClaim.claimName,
    );
    if ("waiting" in resolved) throw new MissingReferenceError(resolved.waiting);
    await Deno.mkdir(resolved.path, { recursive: true, mode: 0o777 });
    return resolved.path;
  }
  const files = new Map<string, { data: Uint8Array; mode: number }>();
  if (volume.configMap || volume.secret) {
    const source = volume.configMap ?? volume.secret!;
    const name = volume.configMap?.name ?? volume.secret?.secretName ?? "";
    const data = volume.configMap
      ? await readConfigMapData(client, namespace, name)
      : await readSecretData(client, namespace, name);
    if (!data && !source.optional) {
      throw new MissingReferenceError(
        `${volume.configMap ? "configmap" : "secret"} "${name}" not found`,
      );
    }
    addKeys(files, data ?? {}, source.items, source.defaultMode ?? 0o644);
    await writeAtomically(dir, files, pod.spec?.securityContext?.fsGroup);
    return dir;
  } else if (volume.downwardAPI) {
    addDownward(
      files,
      pod,
      volume.downwardAPI.items ?? [],
      volume.downwardAPI.defaultMode ?? 0o644,
      addresses,
    );
  } else if (volume.projected) {
    const mode = volume.projected.defaultMode ?? 0o644;
    for (const source of volume.projected.sources ?? []) {
      if (source.serviceAccountToken) {
        const token = await requestToken(
          client,
          pod,
          source.serviceAccountToken.audience,
          source.serviceAccountToken.expirationSeconds,
        );
        files.set(source.serviceAccountToken.path, { data: new TextEncoder().encode(token), mode });
      } else if (source.configMap) {
        const data = await readConfigMapData(client, namespace, source.configMap.name!);
        if (!data && !source.configMap.optional) {
          throw new MissingReferenceError(`configmap "${source.configMap.name}" not found`);
        }
        addKeys(files, data ?? {}, source.configMap.items, mode);
      } else if (source.secret) {
        const data = await readSecretData(client, namespace, source.secret.name!);
        if (!data && !source.secret.optional) {
          throw new MissingReferenceError(`secret "${source.secret.name}" not found`);
        }
        addKeys(files, data ?? {}, source.secret.items, mode);
      } else if (source.downwardAPI) {
        addDownward(files, pod, source.downwardAPI.items ?? [], mode, addresses);
      }
    }
  } else {
    const kind = Object.keys(volume).find((k) => k !== "name") ?? "unknown";
    throw new MissingReferenceError(
      `volume "${volume.name}": type ${kind} is not supported by the local node agent`,
    );
  }
  await writeFiles(dir, files);
  return dir;
}

function addKeys(
  files: Map<string, { data: Uint8Array; mode: number }>,
  data: Record<string, Uint8Array>,
  items: KeyToPath[] | undefined,
  defaultMode: number,
): void {
  if (!items?.length) {
    for (const [key, value] of Object.entries(data)) {
      files.set(key, { data: value, mode: defaultMode });
    }
    return;
  }
  for (const item of items) {
    const value = data[item.key];
    if (value === undefined) throw new MissingReferenceError(`key "${item.key}" not found`);
    files.set(item.path, { data: value, mode: item.mode ?? defaultMode });
  }
}

function addDownward(
  files: Map<string, { data: Uint8Array; mode: number }>,
  pod: Pod,
  items: DownwardAPIVolumeFile[],
  defaultMode: number,
  addresses: PodAddresses,
): void {
  for (const item of items) {
    if (!item.fieldRef) continue;
    const value = podField(pod, item.fieldRef, addresses);
    files.set(item.path, { data: new TextEncoder().encode(value), mode: item.mode ?? defaultMode });
  }
}

/**
 * Writes `files` as a kubelet's atomic writer: into a new folder, then one
 * rename of the `..data` link switches every key to it; keys are links into
 * `..data`. Older folders and keys no longer present are removed.
 */
async function writeAtomically(
  dir: string,
  files: Map<string, { data: Uint8Array; mode: number }>,
  fsGroup: number | undefined,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  if (await holdsAlready(`${dir}/..data`, files)) return;
  const unique = crypto.randomUUID().slice(0, 8);
  const version = `..${new Date().toISOString().replace(/[:.]/g, "_")}.${unique}`;
  await writeFiles(`${dir}/${version}`, files);
  // Readable by the pod's group before any container sees it.
  if (fsGroup !== undefined) await chownGroup(`${dir}/${version}`, fsGroup);
  await Deno.symlink(version, `${dir}/..data_tmp.${unique}`);
  await Deno.rename(`${dir}/..data_tmp.${unique}`, `${dir}/..data`);
  const keys = new Set([...files.keys()].map((path) => path.split("/")[0]!));
  for (const key of keys) {
    const link = `${dir}/${key}`;
    const existing = await Deno.lstat(link).catch(() => undefined);
    if (existing?.isSymlink) continue;
    if (existing) await Deno.remove(link, { recursive: true });
    await Deno.symlink(`..data/${key}`, link);
  }
  for await (const entry of Deno.readDir(dir)) {
    const stale = entry.name.startsWith("..")
      ? entry.name !== "..data" && entry.name !== version
      : !keys.has(entry.name);
    if (stale) await Deno.remove(`${dir}/${entry.name}`, { recursive: true });
  }
}

/** Does the folder `current` hold exactly `files`? Then nothing is written (a kubelet's check too). */
async function holdsAlready(
  current: string,
  files: Map<string, { data: Uint8Array; mode: number }>,
): Promise<boolean> {
  try {
    for (const [path, { data }] of files) {
      const held = await Deno.readFile(`${current}/${path}`);
      if (held.length !== data.length || !held.every((byte, i) => byte === data[i])) return false;
    }
    const top = new Set([...files.keys()].map((path) => path.split("/")[0]!));
    for await (const entry of Deno.readDir(current)) if (!top.has(entry.name)) return false;
    return true;
  } catch {
    return false;
  }
}

/** Writes each file through a temporary name and a rename, so readers never see half a file. */
async function writeFiles(dir: string, files: Map<string, { data: Uint8Array; mode: number }>) {
  await Deno.mkdir(dir, { recursive: true });
  for (const [relative, { data, mode }] of files) {
    if (relative.split("/").includes("..")) {
      throw new MissingReferenceError(`invalid path: ${relative}`);
    }
    const path = `${dir}/${relative}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(`${path}.tmp`, data, { mode });
    await Deno.chmod(`${path}.tmp`, mode);
    await Deno.rename(`${path}.tmp`, path);
  }
}

/** Asks the API server for a token bound to this pod (what the kubelet does for projected tokens). */
async function requestToken(
  client: RestClient,
  pod: Pod,
  audience: string | undefined,
  expirationSeconds: number | undefined,
): Promise<string> {
  const namespace = pod.metadata?.namespace ?? "default";
  const serviceAccount = pod.spec?.serviceAccountName ?? "default";
  const response = await client.request<{ status: { token: string } }>({
    method: "POST",
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {
        audiences: audience ? [audience] : [],
        expirationSeconds: expirationSeconds ?? 3607,
        boundObjectRef: {
          apiVersion: "v1",
          kind: "Pod",
          name: pod.metadata?.name,
          uid: pod.metadata?.uid,
        },
      },
    },
  });
  return response.status.token;
}

async function chownGroup(path: string, gid: number): Promise<void> {
  await Deno.chown(path, null, gid);
  await Deno.chmod(path, ((await Deno.stat(path)).mode ?? 0o755) & 0o7777 | 0o070);
  for await (const entry of Deno.readDir(path)) {
    const child = `${path}/${entry.name}`;
    if (entry.isDirectory) await chownGroup(child, gid);
    else if (entry.isFile) await Deno.chown(child, null, gid);
  }
}
