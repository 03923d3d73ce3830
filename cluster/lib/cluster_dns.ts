/**
 * Installs the cluster DNS add-on (CoreDNS behind kube-dns, cluster/addons)
 * and waits until it answers through its ClusterIP, that is through kube-proxy.
 *
 * @module
 */
import { delay } from "../../src/async/delay.ts";
import { type ClusterLayout, network } from "./layout.ts";
import { run } from "./run.ts";

/** A name the cluster DNS must always answer: the API server's own Service. */
const probeName = `kubernetes.default.svc.${network.clusterDomain}`;

/** Applies the CoreDNS add-on and waits until `kubernetes.default` resolves to its ClusterIP. */
export async function ensureClusterDns(
  layout: ClusterLayout,
  binDir: string,
  timeoutMs = 120_000,
): Promise<void> {
  await run([
    `${binDir}/kubectl`,
    `--kubeconfig=${layout.kubeconfig}`,
    "apply",
    "--server-side",
    "--field-manager=cluster-up",
    "-f",
    `${layout.repoDir}/cluster/addons/coredns.yaml`,
  ]);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const answer = await Deno.resolveDns(probeName, "A", {
        nameServer: { ipAddr: network.dnsClusterIP, port: 53 },
        signal: AbortSignal.timeout(2000),
      });
      if (answer.includes(network.apiServerClusterIP)) return;
      lastError = new Error(`${probeName} resolved to ${answer.join(", ")}`);
    } catch (error) {
      lastError = error;
    }
    await delay(250);
  }
  throw new Error(`Timed out waiting for cluster DNS at ${network.dnsClusterIP}`, {
    cause: lastError,
  });
}
