/**
 * The environment of a container, resolved as the kubelet does: `envFrom`
 * first, then `env` in order (later entries may refer to earlier ones with
 * `$(NAME)`), values from the downward API, ConfigMaps and Secrets.
 *
 * @module
 */
import type {
  Container,
  EnvVar,
  ObjectFieldSelector,
  Pod,
  Service,
} from "kubernetes-types/core/v1.d.ts";
import type { RestClient } from "../../src/kube/client.ts";
import { readConfigMapData, readSecretData } from "./api_objects.ts";
import { expandVariables } from "./images.ts";
import { linkedServices, serviceLinkEnv } from "./service_links.ts";

/** Addresses known only once the sandbox exists. */
export interface PodAddresses {
  readonly podIP: string;
  readonly hostIP: string;
}

/** Thrown when a referenced key is missing; the container waits with this message. */
export class MissingReferenceError extends Error {
  override name = "MissingReferenceError";
}

const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Resolves the full environment of `container` in `pod`. */
export async function resolveEnv(
  client: RestClient,
  pod: Pod,
  container: Container,
  addresses: PodAddresses,
): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? "default";
  // Service variables come first, so the container's own env may override them and
  // refer to them with $(NAME), as on a kubelet.
  const env: Record<string, string> = {
    PATH: basePath,
    HOSTNAME: pod.metadata?.name ?? "",
    ...serviceLinkEnv(await servicesFor(client, pod)),
  };
  const decoder = new TextDecoder();
  // Each Secret and ConfigMap is read once per start, however many variables name it: the
  // kubelet's secret and configmap managers serve them from a cache, not a request each.
  const reads = new Map<string, Promise<Record<string, Uint8Array> | undefined>>();
  const read: DataReader = (kind, name) => {
    const key = `${kind}/${name}`;
    if (!reads.has(key)) {
      reads.set(
        key,
        kind === "secret"
          ? readSecretData(client, namespace, name)
          : readConfigMapData(client, namespace, name),
      );
    }
    return reads.get(key)!;
  };
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? "";
    const data = source.configMapRef
      ? await read("configmap", source.configMapRef.name!)
      : source.secretRef
      ? await read("secret", source.secretRef.name!)
      : undefined;
    const optional = source.configMapRef?.optional ?? source.secretRef?.optional ?? false;
    if (!data && !optional) {
      const what = source.configMapRef ? "configmap" : "secret";
      const name = source.configMapRef?.name ?? source.secretRef?.name;
      throw new MissingReferenceError(`${what} "${name}" not found`);
    }
    for (const [key, value] of Object.entries(data ?? {})) {
      env[prefix + key] = decoder.decode(value);
    }
  }
  for (const variable of container.env ?? []) {
    const value = await resolveVariable(read, pod, variable, addresses, env);
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}

/** The Services whose variables the pod's containers get (see {@linkcode linkedServices}). */
async function servicesFor(client: RestClient, pod: Pod): Promise<Service[]> {
  const namespace = pod.metadata?.namespace ?? "default";
  const [inNamespace, apiServer] = await Promise.all([
    pod.spec?.enableServiceLinks === false
      ? Promise.resolve([])
      : client.request<{ items: Service[] }>({ path: `/api/v1/namespaces/${namespace}/services` })
        .then((list) => list.items),
    client.request<Service>({ path: "/api/v1/namespaces/default/services/kubernetes" })
      .catch(() => undefined),
  ]);
  return linkedServices(pod, inNamespace, apiServer);
}

/** Reads the data of a Secret or ConfigMap of the pod's namespace (undefined: not found). */
type DataReader = (
  kind: "secret" | "configmap",
  name: string,
) => Promise<Record<string, Uint8Array> | undefined>;

async function resolveVariable(
  read: DataReader,
  pod: Pod,
  variable: EnvVar,
  addresses: PodAddresses,
  env: Record<string, string>,
): Promise<string | undefined> {
  if (variable.value !== undefined) return expandVariables(variable.value, env);
  const from = variable.valueFrom;
  if (!from) return "";
  const namespace = pod.metadata?.namespace ?? "default";
  if (from.fieldRef) return podField(pod, from.fieldRef, addresses);
  const keyRef = from.secretKeyRef ?? from.configMapKeyRef;
  if (keyRef) {
    const data = await read(from.secretKeyRef ? "secret" : "configmap", keyRef.name!);
    const value = data?.[keyRef.key];
    if (value === undefined) {
      if (keyRef.optional) return undefined;
      const what = from.secretKeyRef ? "secret" : "configmap";
      throw new MissingReferenceError(
        data
          ? `couldn't find key ${keyRef.key} in ${what} ${namespace}/${keyRef.name}`
          : `${what} "${keyRef.name}" not found`,
      );
    }
    return new TextDecoder().decode(value);
  }
  return "";
}

/** A downward-API field of the pod, as `fieldRef.fieldPath` names it. */
export function podField(pod: Pod, ref: ObjectFieldSelector, addresses: PodAddresses): string {
  const path = ref.fieldPath;
  const labelOrAnnotation = path.match(/^metadata\.(labels|annotations)\['(.+)'\]$/);
  if (labelOrAnnotation) {
    const map = labelOrAnnotation[1] === "labels"
      ? pod.metadata?.labels
      : pod.metadata?.annotations;
    return map?.[labelOrAnnotation[2]!] ?? "";
  }
  switch (path) {
    case "metadata.name":
      return pod.metadata?.name ?? "";
    case "metadata.namespace":
      return pod.metadata?.namespace ?? "";
    case "metadata.uid":
      return pod.metadata?.uid ?? "";
    case "metadata.labels":
      return formatMap(pod.metadata?.labels);
    case "metadata.annotations":
      return formatMap(pod.metadata?.annotations);
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
    case "status.podIPs":
      return addresses.podIP;
    case "status.hostIP":
    case "status.hostIPs":
      return addresses.hostIP;
    default:
      throw new MissingReferenceError(`unsupported fieldPath: ${path}`);
  }
}

function formatMap(map: Record<string, string> | undefined): string {
  return Object.entries(map ?? {}).sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`).join("\n");
}
