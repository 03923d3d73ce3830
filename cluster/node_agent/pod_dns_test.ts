import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { podHostsFile, podResolvConf } from "./pod_dns.ts";

const cluster = { nameserver: "198.19.0.10", domain: "cluster.local" };

Deno.test("podResolvConf(): ClusterFirst asks kube-dns with the namespace search path and ndots:5", () => {
  const pod: Pod = { metadata: { namespace: "shop" }, spec: { containers: [] } };
  assert.equal(
    podResolvConf(pod, cluster),
    "search shop.svc.cluster.local svc.cluster.local cluster.local\n" +
      "nameserver 198.19.0.10\noptions ndots:5\n",
  );
});

Deno.test("podResolvConf(): dnsConfig adds servers, searches and options; an option given again replaces", () => {
  const pod: Pod = {
    metadata: { namespace: "a" },
    spec: {
      containers: [],
      dnsConfig: {
        nameservers: ["198.18.0.53"],
        searches: ["corp.example"],
        options: [{ name: "ndots", value: "2" }, { name: "edns0" }],
      },
    },
  };
  assert.equal(
    podResolvConf(pod, cluster),
    "search a.svc.cluster.local svc.cluster.local cluster.local corp.example\n" +
      "nameserver 198.19.0.10\nnameserver 198.18.0.53\noptions ndots:2 edns0\n",
  );
});

Deno.test("podResolvConf(): Default takes the node's resolver, which here is none; None takes dnsConfig alone", () => {
  assert.equal(
    podResolvConf({ spec: { containers: [], dnsPolicy: "Default" } }, cluster),
    "",
  );
  assert.equal(
    podResolvConf({
      spec: { containers: [], dnsPolicy: "None", dnsConfig: { nameservers: ["198.18.0.9"] } },
    }, cluster),
    "nameserver 198.18.0.9\n",
  );
});

Deno.test("podHostsFile(): a StatefulSet pod gets its fully qualified name under the governing Service", () => {
  const pod: Pod = {
    metadata: { name: "redis-example-0", namespace: "default" },
    spec: { containers: [], hostname: "redis-example-0", subdomain: "redis-example-headless" },
  };
  const lines = podHostsFile(pod, "198.18.1.7", "cluster.local").trimEnd().split("\n");
  assert.equal(lines[0], "# Kubernetes-managed hosts file.");
  assert.equal(lines[1], "127.0.0.1\tlocalhost");
  assert.equal(
    lines.at(-1),
    "198.18.1.7\tredis-example-0.redis-example-headless.default.svc.cluster.local\tredis-example-0",
  );
});

Deno.test("podHostsFile(): a plain pod gets its name; hostAliases follow under their own header", () => {
  const pod: Pod = {
    metadata: { name: "web", namespace: "x" },
    spec: { containers: [], hostAliases: [{ ip: "198.18.0.5", hostnames: ["db", "db.local"] }] },
  };
  const text = podHostsFile(pod, "198.18.1.9", "cluster.local");
  assert.match(
    text,
    /\n198\.18\.1\.9\tweb\n\n# Entries added by HostAliases\.\n198\.18\.0\.5\tdb\tdb\.local\n$/,
  );
});
