/**
 * The `/etc/resolv.conf` and `/etc/hosts` a kubelet writes into a pod. Pure
 * functions of the pod spec, its IP and the cluster's DNS settings.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";

/** The cluster-wide DNS settings of a kubelet (`clusterDNS`, `clusterDomain`). */
export interface ClusterDns {
  readonly nameserver: string;
  readonly domain: string;
}

/** The kubelet's limits on a pod's resolver configuration. */
const maxNameservers = 3;
const maxSearchDomains = 32;

/**
 * The pod's resolv.conf for its `dnsPolicy`: `ClusterFirst` (the default) asks the
 * cluster DNS with the namespace search path and `ndots:5`; `Default` takes the
 * node's resolver, which here is none, so nothing leaves the cluster; `None` is
 * built from `dnsConfig` alone. `dnsConfig` adds to the first two, as it does on a
 * kubelet.
 *
 * @example
 * ```ts
 * podResolvConf({ metadata: { namespace: "shop" }, spec: { containers: [] } },
 *   { nameserver: "198.19.0.10", domain: "cluster.local" });
 * // "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 198.19.0.10\noptions ndots:5\n"
 * ```
 */
export function podResolvConf(pod: Pod, cluster: ClusterDns): string {
  const policy = pod.spec?.dnsPolicy ?? "ClusterFirst";
  const namespace = pod.metadata?.namespace ?? "default";
  let nameservers: string[] = [];
  let searches: string[] = [];
  const options = new Map<string, string | undefined>();
  if (policy === "ClusterFirst" || policy === "ClusterFirstWithHostNet") {
    nameservers = [cluster.nameserver];
    searches = [`${namespace}.svc.${cluster.domain}`, `svc.${cluster.domain}`, cluster.domain];
    options.set("ndots", "5");
  }
  const config = pod.spec?.dnsConfig;
  nameservers = unique([...nameservers, ...config?.nameservers ?? []]).slice(0, maxNameservers);
  searches = unique([...searches, ...config?.searches ?? []]).slice(0, maxSearchDomains);
  for (const option of config?.options ?? []) {
    if (option.name) options.set(option.name, option.value);
  }
  const lines: string[] = [];
  if (searches.length) lines.push(`search ${searches.join(" ")}`);
  for (const server of nameservers) lines.push(`nameserver ${server}`);
  if (options.size) {
    const rendered = [...options].map(([name, value]) =>
      value === undefined ? name : `${name}:${value}`
    );
    lines.push(`options ${rendered.join(" ")}`);
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/**
 * The pod's managed hosts file: localhost entries, the pod's own address under its
 * hostname (and, with `subdomain`, its fully qualified name), then `hostAliases`.
 *
 * @example
 * ```ts
 * podHostsFile({ metadata: { name: "redis-0", namespace: "shop" },
 *   spec: { hostname: "redis-0", subdomain: "redis-headless", containers: [] } },
 *   "198.18.1.7", "cluster.local");
 * // ...198.18.1.7\tredis-0.redis-headless.shop.svc.cluster.local\tredis-0
 * ```
 */
export function podHostsFile(pod: Pod, podIP: string, domain: string): string {
  const hostname = pod.spec?.hostname ?? pod.metadata?.name ?? "";
  const namespace = pod.metadata?.namespace ?? "default";
  const subdomain = pod.spec?.subdomain;
  const lines = [
    "# Kubernetes-managed hosts file.",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
    subdomain
      ? `${podIP}\t${hostname}.${subdomain}.${namespace}.svc.${domain}\t${hostname}`
      : `${podIP}\t${hostname}`,
  ];
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length) {
    lines.push("", "# Entries added by HostAliases.");
    for (const alias of aliases) lines.push(`${alias.ip}\t${(alias.hostnames ?? []).join("\t")}`);
  }
  return `${lines.join("\n")}\n`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
