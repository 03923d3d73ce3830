/**
 * How to reach and authenticate to a Kubernetes API server: from a kubeconfig
 * file (client certificates, static tokens, exec credential plugins, contexts)
 * or from the in-cluster service-account environment.
 *
 * @module
 */
import { parse as parseYaml } from "yaml";
import { decodeBase64Text } from "../text/base64.ts";
import { hostPort } from "../net/host_port.ts";
import { pathExists } from "../files/exists.ts";

/** Where the API server is and how to prove who we are. */
export interface ClusterConfig {
  /** Base URL such as `https://198.18.0.1:6443`, without a trailing slash. */
  readonly server: string;
  /** PEM CA bundle that signs the server certificate; system roots when absent. */
  readonly caCert?: string;
  /** PEM client certificate and key for mutual TLS. */
  readonly clientCert?: string;
  readonly clientKey?: string;
  /**
   * Returns the bearer token for the next request. A function, because in-cluster
   * tokens are rotated on disk and exec plugins hand out expiring tokens.
   */
  readonly token?: () => Promise<string>;
  /** The namespace the context or service account defaults to. */
  readonly namespace: string;
}

const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * Loads configuration the way kubectl and client-go do: `$KUBECONFIG` (first
 * file), else `~/.kube/config`, else the in-cluster service account.
 *
 * @example
 * ```ts ignore
 * const config = await loadClusterConfig();
 * console.log(config.server);
 * ```
 */
export async function loadClusterConfig(
  options: { kubeconfig?: string; context?: string } = {},
): Promise<ClusterConfig> {
  const path = options.kubeconfig ?? Deno.env.get("KUBECONFIG")?.split(":")[0] ??
    defaultKubeconfigPath();
  if (path && await pathExists(path)) {
    return loadKubeconfig(path, options.context);
  }
  if (Deno.env.get("KUBERNETES_SERVICE_HOST")) return loadInClusterConfig();
  throw new Error(
    `No Kubernetes configuration found: set KUBECONFIG, create ~/.kube/config or run in a pod`,
  );
}

/** Reads the in-cluster configuration: host and port from the environment, CA and token from the service-account folder. */
export async function loadInClusterConfig(dir = serviceAccountDir): Promise<ClusterConfig> {
  const host = Deno.env.get("KUBERNETES_SERVICE_HOST");
  const port = Deno.env.get("KUBERNETES_SERVICE_PORT") ?? "443";
  if (!host) throw new Error("KUBERNETES_SERVICE_HOST is not set: not running inside a pod");
  const caCert = await Deno.readTextFile(`${dir}/ca.crt`);
  const namespace = (await Deno.readTextFile(`${dir}/namespace`).catch(() => "default")).trim();
  // The kubelet rotates the projected token file; read it again for every request
  // (cheap) so a long-running operator never sends an expired token.
  const token = async () => (await Deno.readTextFile(`${dir}/token`)).trim();
  return { server: `https://${hostPort(host, port)}`, caCert, token, namespace };
}

/** Parses a kubeconfig file and resolves the chosen context into a {@linkcode ClusterConfig}. */
export async function loadKubeconfig(path: string, contextName?: string): Promise<ClusterConfig> {
  const text = await Deno.readTextFile(path);
  const baseDir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  return await resolveKubeconfig(parseYaml(text) as Kubeconfig, baseDir, contextName);
}

interface Named<T> {
  name: string;
  [key: string]: unknown;
  value?: T;
}

/** The subset of the kubeconfig format we understand. */
export interface Kubeconfig {
  "current-context"?: string;
  contexts?: Array<Named<unknown> & { context: KubeContext }>;
  clusters?: Array<Named<unknown> & { cluster: KubeCluster }>;
  users?: Array<Named<unknown> & { user: KubeUser }>;
}
interface KubeContext {
  cluster: string;
  user?: string;
  namespace?: string;
}
interface KubeCluster {
  server: string;
  "certificate-authority"?: string;
  "certificate-authority-data"?: string;
}
interface KubeUser {
  "client-certificate"?: string;
  "client-certificate-data"?: string;
  "client-key"?: string;
  "client-key-data"?: string;
  token?: string;
  tokenFile?: string;
  exec?: ExecConfig;
}
interface ExecConfig {
  command: string;
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  apiVersion?: string;
}

/** Resolves a parsed kubeconfig; relative file paths are taken from `baseDir`. */
export async function resolveKubeconfig(
  config: Kubeconfig,
  baseDir: string,
  contextName?: string,
): Promise<ClusterConfig> {
  const wanted = contextName ?? config["current-context"];
  const context = config.contexts?.find((c) => c.name === wanted)?.context;
  if (!context) throw new Error(`Kubeconfig has no context named: ${wanted}`);
  const cluster = config.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) throw new Error(`Kubeconfig has no cluster named: ${context.cluster}`);
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  const read = (file: string) =>
    Deno.readTextFile(file.startsWith("/") ? file : `${baseDir}/${file}`);
  const pem = async (data?: string, file?: string) =>
    data ? decodeBase64Text(data) : file ? await read(file) : undefined;

  const caCert = await pem(cluster["certificate-authority-data"], cluster["certificate-authority"]);
  let clientCert = await pem(user["client-certificate-data"], user["client-certificate"]);
  let clientKey = await pem(user["client-key-data"], user["client-key"]);
  let token: (() => Promise<string>) | undefined;
  if (user.token) {
    const value = user.token;
    token = () => Promise.resolve(value);
  } else if (user.tokenFile) {
    const file = user.tokenFile;
    token = async () => (await read(file)).trim();
  } else if (user.exec) {
    const credential = await runExecPlugin(user.exec);
    if (credential.clientCertificateData) clientCert = credential.clientCertificateData;
    if (credential.clientKeyData) clientKey = credential.clientKeyData;
    if (credential.token) token = execTokenSource(user.exec, credential);
  }
  return {
    server: cluster.server.replace(/\/+$/, ""),
    namespace: context.namespace ?? "default",
    ...(caCert === undefined ? {} : { caCert }),
    ...(clientCert === undefined ? {} : { clientCert }),
    ...(clientKey === undefined ? {} : { clientKey }),
    ...(token === undefined ? {} : { token }),
  };
}

interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/** Runs a client-go credential plugin and returns the `status` of its ExecCredential. */
async function runExecPlugin(exec: ExecConfig): Promise<ExecCredentialStatus> {
  const apiVersion = exec.apiVersion ?? "client.authentication.k8s.io/v1";
  const env: Record<string, string> = {
    KUBERNETES_EXEC_INFO: JSON.stringify({
      apiVersion,
      kind: "ExecCredential",
      spec: { interactive: false },
    }),
  };
  for (const e of exec.env ?? []) env[e.name] = e.value;
  const output = await new Deno.Command(exec.command, {
    args: exec.args ?? [],
    env,
    stderr: "piped",
  })
    .output().catch((cause) => {
      throw new Error(`Kubeconfig exec plugin could not start: ${exec.command}`, { cause });
    });
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`Kubeconfig exec plugin failed: ${exec.command}: ${stderr}`);
  }
  const credential = JSON.parse(new TextDecoder().decode(output.stdout));
  return credential.status ?? {};
}

/** Caches an exec plugin's token until a minute before it expires, then runs the plugin again. */
function execTokenSource(exec: ExecConfig, first: ExecCredentialStatus): () => Promise<string> {
  let current = first;
  return async () => {
    const expires = current.expirationTimestamp
      ? Date.parse(current.expirationTimestamp)
      : Infinity;
    if (Date.now() > expires - 60_000) current = await runExecPlugin(exec);
    return current.token ?? "";
  };
}

function defaultKubeconfigPath(): string | undefined {
  const home = Deno.env.get("HOME");
  return home ? `${home}/.kube/config` : undefined;
}
