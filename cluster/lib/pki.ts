/**
 * Certificates for the local cluster, made with openssl: a CA, the API server's
 * serving certificate, an admin client certificate (group system:masters), the
 * node agents' kubelet serving certificates (one per node, for its address), the API server's client certificate
 * towards it and the service-account signing key pair. Made once per cluster state folder.
 *
 * @module
 */
import { network, type NodeLayout } from "./layout.ts";
import { run } from "./run.ts";
import { pathExists } from "../../src/files/exists.ts";

/** Paths of the files {@linkcode ensurePki} makes. */
export interface PkiFiles {
  caCert: string;
  caKey: string;
  apiServerCert: string;
  apiServerKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  /** A node agent's kubelet API serving certificate, for the node's InternalIP. */
  kubeletCert: (node: Pick<NodeLayout, "index">) => string;
  kubeletKey: (node: Pick<NodeLayout, "index">) => string;
  /** The API server's client certificate towards kubelets (kubeadm's apiserver-kubelet-client). */
  apiServerKubeletClientCert: string;
  apiServerKubeletClientKey: string;
}

/** Returns the PKI file paths inside `dir`. */
export function pkiFiles(dir: string): PkiFiles {
  return {
    caCert: `${dir}/ca.crt`,
    caKey: `${dir}/ca.key`,
    apiServerCert: `${dir}/apiserver.crt`,
    apiServerKey: `${dir}/apiserver.key`,
    adminCert: `${dir}/admin.crt`,
    adminKey: `${dir}/admin.key`,
    serviceAccountKey: `${dir}/sa.key`,
    serviceAccountPub: `${dir}/sa.pub`,
    kubeletCert: (node) => `${dir}/kubelet-${node.index}.crt`,
    kubeletKey: (node) => `${dir}/kubelet-${node.index}.key`,
    apiServerKubeletClientCert: `${dir}/apiserver-kubelet-client.crt`,
    apiServerKubeletClientKey: `${dir}/apiserver-kubelet-client.key`,
  };
}

/** Creates whatever of the PKI is missing in `dir` for these nodes and returns the file paths. */
export async function ensurePki(dir: string, nodes: readonly NodeLayout[]): Promise<PkiFiles> {
  const files = pkiFiles(dir);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  if (!await pathExists(files.caCert)) {
    await run([
      ..."openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650"
        .split(" "),
      ...["-keyout", files.caKey, "-out", files.caCert, "-subj", "/CN=redis-operator-local-ca"],
    ]);
  }
  if (!await pathExists(files.apiServerCert)) {
    const names = [
      `IP:${network.controlPlaneIP}`,
      "IP:127.0.0.1",
      "IP:198.19.0.1",
      "DNS:localhost",
      "DNS:kubernetes",
      "DNS:kubernetes.default",
      "DNS:kubernetes.default.svc",
      "DNS:kubernetes.default.svc.cluster.local",
    ];
    await signedCert(files, files.apiServerKey, files.apiServerCert, "/CN=kube-apiserver", [
      `subjectAltName=${names.join(",")}`,
      "extendedKeyUsage=serverAuth",
    ]);
  }
  if (!await pathExists(files.adminCert)) {
    await signedCert(files, files.adminKey, files.adminCert, "/O=system:masters/CN=admin", [
      "extendedKeyUsage=clientAuth",
    ]);
  }
  for (const node of nodes) {
    if (await pathExists(files.kubeletCert(node))) continue;
    await signedCert(files, files.kubeletKey(node), files.kubeletCert(node), `/CN=${node.name}`, [
      `subjectAltName=IP:${node.ip},DNS:${node.name}`,
      "extendedKeyUsage=serverAuth",
    ]);
  }
  if (!await pathExists(files.apiServerKubeletClientCert)) {
    await signedCert(
      files,
      files.apiServerKubeletClientKey,
      files.apiServerKubeletClientCert,
      "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client",
      ["extendedKeyUsage=clientAuth"],
    );
  }
  if (!await pathExists(files.serviceAccountKey)) {
    await run(["openssl", "genrsa", "-out", files.serviceAccountKey, "2048"]);
    await run([
      "openssl",
      "rsa",
      "-in",
      files.serviceAccountKey,
      "-pubout",
      "-out",
      files.serviceAccountPub,
    ]);
  }
  return files;
}

async function signedCert(
  files: PkiFiles,
  keyPath: string,
  certPath: string,
  subject: string,
  extensions: string[],
): Promise<void> {
  const csr = `${certPath}.csr`;
  const ext = `${certPath}.ext`;
  await run([
    ..."openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes".split(" "),
    ...["-keyout", keyPath, "-out", csr, "-subj", subject],
  ]);
  await Deno.writeTextFile(ext, extensions.join("\n") + "\n");
  await run([
    ..."openssl x509 -req -days 3650 -CAcreateserial".split(" "),
    ...["-in", csr, "-CA", files.caCert, "-CAkey", files.caKey, "-out", certPath, "-extfile", ext],
  ]);
  await Deno.remove(csr);
  await Deno.remove(ext);
}

/** Writes a kubeconfig with the certificates embedded, so it works from any folder. */
export async function writeKubeconfig(
  path: string,
  server: string,
  files: PkiFiles,
  clusterName: string,
): Promise<void> {
  const b64 = async (file: string) => btoa(await Deno.readTextFile(file));
  const context = `redis-operator-${clusterName}`;
  const config = {
    apiVersion: "v1",
    kind: "Config",
    "current-context": context,
    clusters: [{
      name: context,
      cluster: { server, "certificate-authority-data": await b64(files.caCert) },
    }],
    users: [{
      name: `${context}-admin`,
      user: {
        "client-certificate-data": await b64(files.adminCert),
        "client-key-data": await b64(files.adminKey),
      },
    }],
    contexts: [{ name: context, context: { cluster: context, user: `${context}-admin` } }],
  };
  // JSON is valid YAML, and kubectl reads it as a kubeconfig. Replaced whole, never
  // truncated in place: `up` writes it again while the cluster's processes read it.
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  await Deno.rename(`${path}.tmp`, path);
}
