/**
 * Real redis-sentinel on the local cluster, for comparison: three Redis pods
 * (one master, two replicas, restartPolicy Never, so a killed master stays
 * dead as after a node loss, rather than coming back empty) and three
 * Sentinels behind a Service, as a Helm chart would run them.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { Redis } from "ioredis";
import type { KubeClient } from "../../src/kube/client.ts";
import { kubectl, waitFor } from "../cluster/helpers.ts";

/** A running Sentinel set. */
export interface RealSentinels {
  /** The Service clients give as their Sentinel. */
  readonly service: string;
  readonly masterName: string;
  /** Pod IPs of the Sentinels. */
  readonly sentinelIps: readonly string[];
  /** The master address the first Sentinel reports now. */
  currentMaster(): Promise<string | undefined>;
  /** The Redis pod whose IP is `ip`. */
  podOf(ip: string): Promise<string | undefined>;
}

async function runningPod(client: KubeClient, namespace: string, name: string): Promise<Pod> {
  return await waitFor(`pod ${name} running`, async () => {
    const pod = await client.request<Pod>({
      path: `/api/v1/namespaces/${namespace}/pods/${name}`,
    });
    return pod.status?.phase === "Running" && pod.status.podIP ? pod : undefined;
  }, 120_000);
}

/** Starts Redis and Sentinel pods named `prefix-*` with `down-after-milliseconds` of `downAfterMs`. */
export async function startRealSentinels(
  client: KubeClient,
  namespace: string,
  prefix: string,
  downAfterMs: number,
): Promise<RealSentinels> {
  const apply = (object: unknown) =>
    kubectl(["-n", namespace, "apply", "-f", "-"], JSON.stringify(object));
  const redisNames = [0, 1, 2].map((i) => `${prefix}-redis-${i}`);
  for (const name of redisNames) {
    await apply({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels: { app: `${prefix}-redis` } },
      spec: {
        restartPolicy: "Never",
        containers: [{
          name: "redis",
          image: "redis:7.0",
          args: ["--save", "", "--appendonly", "no", "--protected-mode", "no"],
        }],
      },
    });
  }
  const redisPods = await Promise.all(redisNames.map((n) => runningPod(client, namespace, n)));
  const [masterIp, ...replicaIps] = redisPods.map((p) => p.status!.podIP!);
  for (const ip of replicaIps) {
    const replica = new Redis({ host: ip, lazyConnect: true, maxRetriesPerRequest: 2 });
    try {
      await replica.connect();
      await replica.replicaof(masterIp!, 6379);
    } finally {
      replica.disconnect();
    }
  }
  const masterName = "mymaster";
  await apply({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `${prefix}-sentinel` },
    data: {
      "sentinel.conf": [
        "port 26379",
        "protected-mode no",
        `sentinel monitor ${masterName} ${masterIp} 6379 2`,
        `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
        `sentinel failover-timeout ${masterName} 10000`,
        `sentinel parallel-syncs ${masterName} 1`,
        "",
      ].join("\n"),
    },
  });
  const sentinelNames = [0, 1, 2].map((i) => `${prefix}-sentinel-${i}`);
  for (const name of sentinelNames) {
    await apply({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels: { app: `${prefix}-sentinel` } },
      spec: {
        containers: [{
          name: "sentinel",
          image: "redis:7.0",
          // Sentinel rewrites its config file: a writable copy.
          command: [
            "sh",
            "-c",
            "cp /conf/sentinel.conf /data/sentinel.conf && exec redis-server /data/sentinel.conf --sentinel",
          ],
          volumeMounts: [{ name: "conf", mountPath: "/conf" }, {
            name: "data",
            mountPath: "/data",
          }],
        }],
        volumes: [
          { name: "conf", configMap: { name: `${prefix}-sentinel` } },
          { name: "data", emptyDir: {} },
        ],
      },
    });
  }
  await apply({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: `${prefix}-sentinel` },
    spec: { selector: { app: `${prefix}-sentinel` }, ports: [{ port: 26379 }] },
  });
  const sentinelIps = (await Promise.all(
    sentinelNames.map((n) => runningPod(client, namespace, n)),
  )).map((p) => p.status!.podIP!);
  const ask = async (ip: string, ...command: string[]) => {
    const sentinel = new Redis({
      host: ip,
      port: 26379,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
      commandTimeout: 1000,
    });
    sentinel.on("error", () => {});
    try {
      await sentinel.connect();
      return await sentinel.call(...command as [string, ...string[]]);
    } finally {
      sentinel.disconnect();
    }
  };
  // Every Sentinel knows both replicas and the two other Sentinels.
  await waitFor("the Sentinels to know each other and the replicas", async () => {
    for (const ip of sentinelIps) {
      const fields = await ask(ip, "SENTINEL", "MASTER", masterName).catch(() => []) as string[];
      const field = (key: string) => fields[fields.indexOf(key) + 1];
      if (field("num-slaves") !== "2" || field("num-other-sentinels") !== "2") return undefined;
    }
    return true;
  }, 120_000);
  return {
    service: `${prefix}-sentinel`,
    masterName,
    sentinelIps,
    currentMaster: async () => {
      const answer = await ask(sentinelIps[0]!, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName)
        .catch(() => undefined) as string[] | undefined;
      return answer?.[0];
    },
    podOf: async (ip) => {
      for (const name of redisNames) {
        const pod = await client.request<Pod>({
          path: `/api/v1/namespaces/${namespace}/pods/${name}`,
        });
        if (pod.status?.podIP === ip) return name;
      }
      return undefined;
    },
  };
}
