/**
 * Reads of the ConfigMaps, Secrets and claims a pod refers to.
 *
 * @module
 */
import type {
  ConfigMap,
  PersistentVolume,
  PersistentVolumeClaim,
  Secret,
} from "kubernetes-types/core/v1.d.ts";
import { decodeBase64 } from "../../src/text/base64.ts";
import { type RestClient, unlessNotFound } from "../../src/kube/client.ts";

/** Reads a namespaced core/v1 object; undefined when it does not exist. */
function getOptional<T>(client: RestClient, path: string): Promise<T | undefined> {
  return unlessNotFound(client.request<T>({ path }));
}

/** The data of a ConfigMap (binaryData decoded to text), or undefined when missing. */
export async function readConfigMapData(
  client: RestClient,
  namespace: string,
  name: string,
): Promise<Record<string, Uint8Array> | undefined> {
  const cm = await getOptional<ConfigMap>(
    client,
    `/api/v1/namespaces/${namespace}/configmaps/${name}`,
  );
  if (!cm) return undefined;
  const data: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(cm.data ?? {})) data[k] = new TextEncoder().encode(v);
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) data[k] = decodeBase64(v);
  return data;
}

/** The decoded data of a Secret, or undefined when missing. */
export async function readSecretData(
  client: RestClient,
  namespace: string,
  name: string,
): Promise<Record<string, Uint8Array> | undefined> {
  const secret = await getOptional<Secret>(
    client,
    `/api/v1/namespaces/${namespace}/secrets/${name}`,
  );
  if (!secret) return undefined;
  const data: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = decodeBase64(v);
  for (const [k, v] of Object.entries(secret.stringData ?? {})) {
    data[k] = new TextEncoder().encode(v);
  }
  return data;
}

/** The host folder behind a bound claim, or a reason why there is none yet. */
export async function resolveClaimPath(
  client: RestClient,
  namespace: string,
  claimName: string,
): Promise<{ path: string } | { waiting: string }> {
  const claim = await getOptional<PersistentVolumeClaim>(
    client,
    `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${claimName}`,
  );
  if (!claim) return { waiting: `persistentvolumeclaim "${claimName}" not found` };
  const volumeName = claim.spec?.volumeName;
  if (!volumeName || claim.status?.phase !== "Bound") {
    return { waiting: `persistentvolumeclaim "${claimName}" is not bound yet` };
  }
  const volume = await getOptional<PersistentVolume>(
    client,
    `/api/v1/persistentvolumes/${volumeName}`,
  );
  const path = volume?.spec?.hostPath?.path ?? volume?.spec?.local?.path;
  if (!path) return { waiting: `persistentvolume "${volumeName}" has no host path` };
  return { path };
}
