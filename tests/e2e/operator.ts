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

/**
 * Waits until the Redis is Ready with `replicas` connected instances; returns
 * it. A timeout says what the Redis, its pods and the leader looked like.
 */
export async function waitForReady(
  client: KubeClient,
  namespace: string,
  name: string,
  replicas = 3,
  timeoutMs = 90_000,
): Promise<Redis> {
  return await explainTimeout(
    client,
    namespace,
    name,
    waitFor(`redis ${namespace}/${name} Ready with ${replicas} instances`, async () => {
      const redis = await getRedis(client, namespace, name);
      const ready = redis.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
      return ready && redis.status?.replicas === replicas &&
          redis.status.observedGeneration === redis.metadata?.generation
        ? redis
        : undefined;
    }, timeoutMs),
  );
}

/**
 * Awaits `waiting`; when it fails, fails with its message followed by
 * {@linkcode describeRedis}: CI keeps only the start of a failure's message,
 * and a stuck Redis is understood from its state at that moment.
 */
export async function explainTimeout<T>(
  client: KubeClient,
  namespace: string,
  name: string,
  waiting: Promise<T>,
): Promise<T> {
  try {
    return await waiting;
  } catch (error) {
    const state = await describeRedis(client, namespace, name).catch((e) => `(no state: ${e})`);
    throw new Error(`${error instanceof Error ? error.message : error}; ${state}`, {
      cause: error,
    });
  }
}

/**
 * One line about a Redis: its status conditions, each pod (phase, readiness,
 * role label, restarts, template revision, uid), and the leader's last
 * log lines about it above debug.
 */
export async function describeRedis(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<string> {
  const redis = await getRedis(client, namespace, name).catch(() => undefined);
  const conditions = (redis?.status?.conditions ?? [])
    .map((c) => `${c.type}=${c.status}: ${c.message}`).join("; ");
  const pods = await kubectl([
    "-n",
    namespace,
    "get",
    "pods",
    "-l",
    `redis=${name}`,
    "-o",
    "go-template={{range .items}}{{.metadata.name}}({{.status.phase}}" +
    '{{range .status.conditions}}{{if eq .type "Ready"}} ready={{.status}}{{end}}{{end}}' +
    ' role={{index .metadata.labels "role"}}' +
    "{{range .status.containerStatuses}} restarts={{.restartCount}}{{end}}" +
    ' rev={{index .metadata.labels "controller-revision-hash"}}' +
    "{{if .metadata.deletionTimestamp}} terminating{{end}} uid={{slice .metadata.uid 0 8}}) {{end}}",
  ]).catch((e) => `(no pods: ${e})`);
  const said = await leaderSaid(client, namespace);
  return `status: master ${redis?.status?.master}, ${conditions}; pods: ${pods.trim()}; ` +
    `the leader logged: ${said}`;
}

/**
 * The leader's last log lines (of the last two minutes, above debug) about
 * `namespace`, shortened and joined by " | ".
 */
export async function leaderSaid(client: KubeClient, namespace: string): Promise<string> {
  const leader = await leaderPod(client);
  if (!leader) return "(no leader)";
  const logs = await kubectl([
    "-n",
    "redis-operator",
    "logs",
    leader.metadata!.name!,
    "--since=120s",
  ]).catch((e) => `(no logs: ${e})`);
  return logs.split("\n")
    // Evidence lines (a connection reset) are many and say little here.
    // A pass's own lines name the namespace; "pass still running" names its key.
    .filter((l) =>
      (l.includes(`"${namespace}"`) || l.includes(`"${namespace}/`)) && !l.includes('"DEBUG"') &&
      !l.includes("instance evidence")
    )
    .slice(-6)
    .map((l) =>
      l.replace(/"logger":"[^"]*",|"namespace":"[^"]*",|"name":"[^"]*",|"level":"INFO",/g, "")
        .slice(0, 300)
    )
    .join(" | ") || "nothing";
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
