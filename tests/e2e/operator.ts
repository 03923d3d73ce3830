/**
 * The operator as the end-to-end tests see it: deployed from deploy/ into the
 * local cluster, reached through its pods' addresses.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { Redis } from "../../src/api/redis.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { kubectl, layout, waitFor } from "../cluster/helpers.ts";

/** Applies deploy/ (idempotent) and waits until both operator replicas are ready and one leads. */
export async function deployOperator(client: KubeClient): Promise<void> {
  await kubectl(["apply", "-k", `${layout.repoDir}/deploy`]);
  await waitForOperatorRollout();
  await waitFor("an operator leader", () => leaderPod(client));
}

/** Waits until every operator replica runs and is ready, for at most `timeoutS`. */
export async function waitForOperatorRollout(timeoutS = 360): Promise<void> {
  await kubectl([
    "-n",
    "redis-operator",
    "rollout",
    "status",
    "deployment/redis-operator",
    // The default allows for operator pods that restart under the kubelet's back-off when
    // earlier tests killed them (10 s, 20 s, 40 s... within ten minutes).
    `--timeout=${timeoutS}s`,
  ]);
}

/** The Lease holder identity. */
export async function leaseHolder(client: KubeClient): Promise<string | undefined> {
  const lease = await client.request<{ spec?: { holderIdentity?: string } }>({
    path: "/apis/coordination.k8s.io/v1/namespaces/redis-operator/leases/redis-operator",
  }).catch(() => undefined);
  return lease?.spec?.holderIdentity ?? undefined;
}

/** The operator pod holding the Lease, if any (identities are `<pod>_<random>`). */
export async function leaderPod(client: KubeClient): Promise<Pod | undefined> {
  const holder = await leaseHolder(client);
  if (!holder) return undefined;
  const podName = holder.includes("_") ? holder.slice(0, holder.lastIndexOf("_")) : holder;
  return await client.request<Pod>({ path: `/api/v1/namespaces/redis-operator/pods/${podName}` })
    .catch(() => undefined);
}

/** Scrapes an operator pod's /metrics into `name{labels}` → value. */
export async function scrapeMetrics(pod: Pod): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${pod.status?.podIP}:8080/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** Reads a Redis resource. */
export function getRedis(client: KubeClient, namespace: string, name: string): Promise<Redis> {
  return client.request<Redis>({
    path: `/apis/redis-operator.dev/v1alpha1/namespaces/${namespace}/redis/${name}`,
  });
}

/** Waits until the Redis is Ready with `replicas` connected instances; returns it. */
export function waitForReady(
  client: KubeClient,
  namespace: string,
  name: string,
  replicas = 3,
  timeoutMs = 90_000,
): Promise<Redis> {
  return waitFor(`redis ${namespace}/${name} Ready with ${replicas} instances`, async () => {
    const redis = await getRedis(client, namespace, name);
    const ready = redis.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
    return ready && redis.status?.replicas === replicas &&
        redis.status.observedGeneration === redis.metadata?.generation
      ? redis
      : undefined;
  }, timeoutMs);
}

/** A Redis manifest with the example's shape, for tests. */
export function redisManifest(name: string, spec: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: "redis-operator.dev/v1alpha1",
    kind: "Redis",
    metadata: { name },
    spec: { replicas: 3, redis: { image: "redis:7.0", initialDelaySeconds: 2 }, ...spec },
  });
}
