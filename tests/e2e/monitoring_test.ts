/**
 * Metrics, end to end (issue 11): a real Prometheus server (Debian's) scrapes
 * the operator and the redis_exporter sidecars of a Redis with a password, at
 * the targets the applied ServiceMonitor and PodMonitor select, and evaluates
 * the shipped alert rules. The component itself
 * (deploy/monitoring) is applied with the Prometheus Operator's CRDs, so the
 * API server checks every field of it.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { stringify } from "yaml";
import { delay } from "../../src/async/delay.ts";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import type { Pod, Service } from "kubernetes-types/core/v1.d.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { writerPaths } from "../chaos/app_writers.ts";
import { clusterClient, kubectl, testNamespace, waitFor } from "../cluster/helpers.ts";
import { alertRulesFile, dashboardQueries, monitoring } from "../monitoring/files.ts";
import { deployOperator, redisManifest, waitForReady } from "./operator.ts";

const exporterImage = "oliver006/redis_exporter:v1.45.0";

Deno.test("a real Prometheus scrapes the operator and the exporters; the shipped monitoring applies", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  await applyMonitoringComponent();
  const ns = await testNamespace("monitoring");
  const n = ns.name;
  const dir = await Deno.makeTempDir({ prefix: "prometheus-" });
  let prometheus: Deno.ChildProcess | undefined;
  try {
    await kubectl(["-n", n, "create", "secret", "generic", "pw", "--from-literal=password=s3cret"]);
    await kubectl(
      ["-n", n, "apply", "-f", "-"],
      redisManifest("mon", {
        password: { secretKeyRef: { name: "pw", key: "password" } },
        exporter: { image: exporterImage },
      }),
    );
    await waitForReady(client, n, "mon");

    const port = 19090;
    prometheus = await startPrometheus(client, dir, port);
    const query = (expr: string) => instantQuery(port, expr);

    // Every exporter reached its Redis with the password (redis_up is 0 on a failed AUTH).
    const up = await waitFor("3 exporters up", async () => {
      const result = await query(`redis_up{namespace="${n}", name="mon"}`);
      return result.length === 3 && result.every((r) => r.value === "1") ? result : undefined;
    }, 90_000);
    assert.deepEqual(up.map((r) => r.metric.pod).sort(), [
      "redis-mon-0",
      "redis-mon-1",
      "redis-mon-2",
    ]);
    const replicas = await waitFor("the master's exporter counts 2 replicas", async () => {
      const result = await query(`redis_connected_slaves{namespace="${n}", role="master"}`);
      return result.length === 1 && result[0]!.value === "2" ? result : undefined;
    });
    assert.equal(replicas.length, 1);

    // The operator's per-Redis series, kept under the Redis's own namespace (honor_labels).
    const operator = await waitFor("the operator's series of the Redis", async () => {
      const connected = await query(
        `redis_operator_connected_instances{namespace="${n}", name="mon"}`,
      );
      const ready = await query(
        `redis_operator_condition{namespace="${n}", name="mon", type="Ready"} == 1`,
      );
      return connected[0]?.value === "3" && ready.length === 1 ? { connected, ready } : undefined;
    }, 60_000);
    assert.equal(operator.connected.length, 1, "one leader reports it");
    assert.equal((await query("sum(redis_operator_leader)"))[0]?.value, "1");
    const lag = await query(`redis_operator_replication_lag_bytes{namespace="${n}", name="mon"}`);
    assert.equal(lag.length, 2, "a lag series per replica");

    // Every dashboard query runs against real series without an error.
    for (const expr of await dashboardQueries()) await query(expr);

    // The shipped rules load and evaluate cleanly, and a healthy Redis fires nothing.
    const groups = await waitFor("rules evaluated", async () => {
      const body = await api(port, "/api/v1/rules");
      const rules = body.data.groups.flatMap((g: { rules: unknown[] }) => g.rules) as {
        name: string;
        health: string;
        lastError?: string;
      }[];
      return rules.length === 6 && rules.every((r) => r.health === "ok") ? rules : undefined;
    });
    assert.equal(groups.length, 6);
    assert.deepEqual(await query(`ALERTS{namespace="${n}"}`), []);
  } finally {
    prometheus?.kill("SIGTERM");
    await prometheus?.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await ns.remove();
    client.close();
  }
});

/**
 * Installs the Prometheus Operator's CRDs (from prepare.sh) and applies
 * deploy/monitoring into the operator's namespace: strict field validation
 * refuses any field those CRDs do not have.
 */
async function applyMonitoringComponent(): Promise<void> {
  const crds = (await writerPaths()).PROMETHEUS_OPERATOR_CRDS;
  assert.ok(crds, "prepare.sh fetched the Prometheus Operator's CRDs");
  await kubectl(["apply", "--server-side", "-f", crds]);
  // Polled rather than `kubectl wait`, which fails outright while a new CRD has no conditions.
  for (const kind of ["servicemonitors", "podmonitors", "prometheusrules"]) {
    await waitFor(`CRD ${kind} established`, async () => {
      const crd = JSON.parse(
        await kubectl(["get", "crd", `${kind}.monitoring.coreos.com`, "-o", "json"]),
      );
      return crd.status?.conditions?.some((c: { type: string; status: string }) =>
        c.type === "Established" && c.status === "True"
      ) || undefined;
    });
  }
  const overlay = await Deno.makeTempDir({ prefix: "monitoring-" });
  try {
    await Deno.writeTextFile(
      `${overlay}/kustomization.yaml`,
      stringify({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        namespace: "redis-operator",
        components: [relative(overlay, monitoring.pathname)],
      }),
    );
    const applied = await kubectl(["apply", "--validate=strict", "-k", overlay]);
    for (
      const object of [
        "service/redis-operator-metrics",
        "configmap/redis-operator-dashboard",
        "servicemonitor.monitoring.coreos.com/redis-operator",
        "podmonitor.monitoring.coreos.com/redis-exporter",
        "prometheusrule.monitoring.coreos.com/redis-operator",
      ]
    ) {
      assert.match(applied, new RegExp(object.replaceAll(".", "\\.")), applied);
    }
  } finally {
    await Deno.remove(overlay, { recursive: true });
  }
}

/**
 * Starts Prometheus with the shipped alert rules and one file-discovered
 * scrape job per shipped monitor. Debian's Prometheus is built without
 * Kubernetes discovery, so the targets come from {@linkcode monitorTargets},
 * which resolves the applied ServiceMonitor and PodMonitor as the Prometheus
 * Operator would.
 */
async function startPrometheus(
  client: KubeClient,
  dir: string,
  port: number,
): Promise<Deno.ChildProcess> {
  await Deno.writeTextFile(`${dir}/alerts.rules.yaml`, await alertRulesFile());
  const targets = await monitorTargets(client);
  const jobs = Object.entries(targets).map(([job, { honorLabels, groups }]) => {
    Deno.writeTextFileSync(`${dir}/${job}.json`, JSON.stringify(groups));
    return {
      job_name: job,
      honor_labels: honorLabels,
      file_sd_configs: [{ files: [`${job}.json`], refresh_interval: "5s" }],
    };
  });
  const config = {
    global: { scrape_interval: "2s", evaluation_interval: "2s" },
    rule_files: ["alerts.rules.yaml"],
    scrape_configs: jobs,
  };
  await Deno.writeTextFile(`${dir}/prometheus.yml`, stringify(config));
  const child = new Deno.Command("prometheus", {
    args: [
      "--config.file=prometheus.yml",
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log = child.stderr.pipeTo((await Deno.create(`${dir}/prometheus.log`)).writable);
  const exited = child.status.then((s) => s);
  await waitFor("Prometheus ready", async () => {
    const done = await Promise.race([exited, delay(0).then(() => undefined)]);
    if (done) {
      await log;
      throw new Error(`Prometheus exited: ${await Deno.readTextFile(`${dir}/prometheus.log`)}`);
    }
    const response = await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => undefined);
    await response?.body?.cancel();
    return response?.ok || undefined;
  });
  return child;
}

/** One GET of the Prometheus HTTP API; throws unless it succeeded. */
async function api(port: number, path: string) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  const body = await response.json();
  if (body.status !== "success") throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body;
}

/** An instant query's samples: labels and value. */
async function instantQuery(
  port: number,
  expr: string,
): Promise<{ metric: Record<string, string>; value: string }[]> {
  const body = await api(port, `/api/v1/query?query=${encodeURIComponent(expr)}`);
  if (body.data.resultType !== "vector") return [];
  return body.data.result.map((r: { metric: Record<string, string>; value: [number, string] }) => ({
    metric: r.metric,
    value: r.value[1],
  }));
}

interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/**
 * The scrape targets of the applied ServiceMonitor `redis-operator` and
 * PodMonitor `redis-exporter`, resolved as the Prometheus Operator does: the
 * ServiceMonitor's Services in its namespace, their EndpointSlices' ready
 * addresses on the named port; the PodMonitor's pods in any namespace, on the
 * named container port, with its relabelings from pod labels.
 */
async function monitorTargets(
  client: KubeClient,
): Promise<Record<string, { honorLabels: boolean; groups: TargetGroup[] }>> {
  const get = <T>(path: string) => client.request<T>({ path });
  const selector = (labels: Record<string, string>) =>
    encodeURIComponent(Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(","));
  type Monitor = {
    spec: {
      selector: { matchLabels: Record<string, string> };
      endpoints?: { port: string; honorLabels?: boolean }[];
      podMetricsEndpoints?: {
        port: string;
        relabelings?: { sourceLabels: string[]; targetLabel: string }[];
      }[];
    };
  };
  const serviceMonitor = await get<Monitor>(
    "/apis/monitoring.coreos.com/v1/namespaces/redis-operator/servicemonitors/redis-operator",
  );
  const podMonitor = await get<Monitor>(
    "/apis/monitoring.coreos.com/v1/namespaces/redis-operator/podmonitors/redis-exporter",
  );

  const endpoint = serviceMonitor.spec.endpoints![0]!;
  const services = await get<{ items: Service[] }>(
    `/api/v1/namespaces/redis-operator/services?labelSelector=${
      selector(serviceMonitor.spec.selector.matchLabels)
    }`,
  );
  const operatorGroups: TargetGroup[] = [];
  for (const service of services.items) {
    const slices = await get<{ items: EndpointSlice[] }>(
      `/apis/discovery.k8s.io/v1/namespaces/redis-operator/endpointslices?labelSelector=${
        selector({ "kubernetes.io/service-name": service.metadata!.name! })
      }`,
    );
    for (const slice of slices.items) {
      const port = slice.ports?.find((p) => p.name === endpoint.port)?.port;
      for (const e of slice.endpoints) {
        if (!port || e.conditions?.ready === false) continue;
        operatorGroups.push({
          targets: e.addresses.map((a) => `${a}:${port}`),
          labels: { pod: e.targetRef?.name ?? "" },
        });
      }
    }
  }

  const podEndpoint = podMonitor.spec.podMetricsEndpoints![0]!;
  const pods = await get<{ items: Pod[] }>(
    `/api/v1/pods?labelSelector=${selector(podMonitor.spec.selector.matchLabels)}`,
  );
  const exporterGroups: TargetGroup[] = pods.items.flatMap((pod) => {
    const port = pod.spec?.containers.flatMap((c) => c.ports ?? []).find((p) =>
      p.name === podEndpoint.port
    )?.containerPort;
    if (!port || !pod.status?.podIP) return [];
    const labels: Record<string, string> = {
      namespace: pod.metadata!.namespace!,
      pod: pod.metadata!.name!,
    };
    for (const relabel of podEndpoint.relabelings ?? []) {
      const label = relabel.sourceLabels[0]!.replace(/^__meta_kubernetes_pod_label_/, "");
      const value = pod.metadata?.labels?.[label];
      if (value !== undefined) labels[relabel.targetLabel] = value;
    }
    return [{ targets: [`${pod.status.podIP}:${port}`], labels }];
  });
  return {
    "redis-operator": { honorLabels: endpoint.honorLabels ?? false, groups: operatorGroups },
    "redis-exporter": { honorLabels: false, groups: exporterGroups },
  };
}
