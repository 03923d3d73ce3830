/**
 * A steady Redis costs no writes (issue 8, item 11): with the default spec,
 * the annotated example and optional fields whose zero values the API server
 * leaves out, the leader's passes find every owned object as they want it.
 * Before, the default spec's readiness probe (initialDelaySeconds 0, never
 * stored) had each pass apply the StatefulSet again. And a new leader, which
 * starts from lists, applied every owned object on every pass.
 */
import assert from "node:assert/strict";
import { delay } from "../../src/async/delay.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { clusterClient, kubectl, testNamespace, waitFor } from "../cluster/helpers.ts";
import {
  successfulPasses,
  waitForOnlyRedis,
  waitForQuietWrites,
  writesBetween,
} from "./api_writes.ts";
import {
  deployOperator,
  getRedis,
  leaderPod,
  leaderSaid,
  scrapeMetrics,
  waitForReady,
} from "./operator.ts";

const example = await Deno.readTextFile(new URL("../../example/redis.yaml", import.meta.url));

/** A Redis manifest with exactly `spec`: no image or probe delay the other tests add. */
const manifest = (name: string, spec: Record<string, unknown>) =>
  JSON.stringify({
    apiVersion: "redis-operator.dev/v1alpha1",
    kind: "Redis",
    metadata: { name },
    spec,
  });

/**
 * `kind/name` → version of every object the operator owns in `namespace`: the
 * resourceVersion, but for objects with a status (StatefulSet, PDB) the
 * generation, labels and annotations. Their controllers rewrite the status
 * whenever a pod's readiness changes (a readiness probe that timed out on a
 * busy machine), which is no write of the operator's.
 */
async function ownedVersions(namespace: string): Promise<Record<string, string>> {
  const list = async (kinds: string, selector: string) =>
    JSON.parse(await kubectl(["-n", namespace, "get", kinds, "-l", selector, "-o", "json"]))
      .items as Array<{
        kind: string;
        metadata: {
          name: string;
          resourceVersion: string;
          generation?: number;
          labels?: unknown;
          annotations?: unknown;
        };
      }>;
  const items = [
    ...await list(
      "statefulsets,services,configmaps,secrets,poddisruptionbudgets,networkpolicies",
      "app.kubernetes.io/managed-by=redis-operator",
    ),
    // Only the master Service's slice is the operator's; the others carry its labels too.
    ...await list("endpointslices", "endpointslice.kubernetes.io/managed-by=redis-operator.dev"),
  ];
  return Object.fromEntries(
    items.map(({ kind, metadata }) => [
      `${kind}/${metadata.name}`,
      kind === "StatefulSet" || kind === "PodDisruptionBudget"
        ? JSON.stringify([metadata.generation, metadata.labels, metadata.annotations])
        : metadata.resourceVersion,
    ]),
  );
}

/** `name` → resourceVersion of every pod in `namespace`, as one string to compare. */
async function podVersions(namespace: string): Promise<string> {
  return await kubectl([
    "-n",
    namespace,
    "get",
    "pods",
    "-o",
    "go-template={{range .items}}{{.metadata.name}}={{.metadata.resourceVersion}} {{end}}",
  ]);
}

/** The keys whose values differ between two records. */
function changedKeys(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
}

Deno.test("a steady Redis costs no writes: the default spec, the example, optional fields, and after a change of leader", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("nowrite");
  try {
    const apply = (yaml: string) => kubectl(["-n", ns.name, "apply", "-f", "-"], yaml);
    await kubectl([
      "-n",
      ns.name,
      "create",
      "secret",
      "generic",
      "app-password",
      "--from-literal=password=app-s3cret",
    ]);
    await apply(manifest("plain", { replicas: 3 }));
    await apply(example);
    // Zero values the server does not store, and numbers it stores as quantity strings.
    await apply(manifest("extras", {
      replicas: 3,
      config: { "maxmemory-policy": "noeviction" },
      annotations: { "example.com/flag": "" },
      nodeSelector: {},
      tolerations: [],
      serviceAccountName: "default",
      volumes: [{ name: "scratch", emptyDir: {} }],
      failover: { minReplicasToWrite: 0 },
      redis: { initialDelaySeconds: 0, resources: { requests: { cpu: 0.1, memory: 67108864 } } },
      // The optional objects: a NetworkPolicy, the ACL users' Secrets, a Sentinel name.
      networkPolicy: { from: [{ podSelector: {} }], metricsFrom: [] },
      acl: {
        users: [{
          name: "app",
          rules: "on ~* +@all",
          password: { secretKeyRef: { name: "app-password", key: "password" } },
        }],
      },
      sentinel: { masterName: `nowrite-${ns.name}` },
    }));
    const names = ["plain", "example", "extras"];
    for (const name of names) await waitForReady(client, ns.name, name, 3, 180_000);
    await waitForOnlyRedis(names.map((name) => `${ns.name}/${name}`));

    const statuses = async () =>
      JSON.stringify(
        await Promise.all(
          names.map(async (name) => (await getRedis(client, ns.name, name)).status),
        ),
      );
    /** Asserts that `leader` wrote nothing in a steady window. */
    const assertQuietWindow = async (leader: Pod, who: string) => {
      const snapshot = async () => ({
        metrics: await scrapeMetrics(leader),
        versions: await ownedVersions(ns.name),
        pods: await podVersions(ns.name),
        statuses: await statuses(),
      });
      await waitForQuietWrites(() => scrapeMetrics(leader), [ns.name]);
      // A window in which a pod changed (a readiness probe that timed out on a busy machine,
      // a restart) is not steady: the operator rightly answers it. Up to three windows.
      let before = await snapshot();
      let after = before;
      for (let window = 1; window <= 3; window++) {
        await delay(15_000);
        after = await snapshot();
        if (after.pods === before.pods) break;
        console.log(`window ${window}: a pod changed, so it is not steady; another window`);
        before = after;
      }
      assert.equal(
        (await leaderPod(client))?.metadata?.name,
        leader.metadata?.name,
        `${who}: the same leader all along, so its counters cover the whole window`,
      );
      const passes = successfulPasses(after.metrics) - successfulPasses(before.metrics);
      assert.ok(passes >= 2 * names.length, `${who}: passes ran: ${passes}`);
      const writes = writesBetween(before.metrics, after.metrics);
      if (Object.keys(writes).length > 0) {
        // CI shows only the start of a failure's message: what was written and why first.
        assert.fail(
          `${who}: writes in a steady window: ${JSON.stringify(writes)}; changed objects: ${
            JSON.stringify(changedKeys(before.versions, after.versions))
          }; pods changed: ${after.pods !== before.pods}; the leader logged: ${await leaderSaid(
            client,
            ns.name,
          )}; statuses before ${before.statuses}, after ${after.statuses}`,
        );
      }
      // A StatefulSet, four Services, a ConfigMap, a PDB and the master slice each; the
      // extras' NetworkPolicy and its ACL Secrets (redis-extras-acl, and the backup redis-extras).
      assert.equal(
        Object.keys(before.versions).length,
        8 * names.length + 3,
        `${who}: every owned object is listed: ${Object.keys(before.versions).join(", ")}`,
      );
      assert.deepEqual(after.versions, before.versions, `${who}: no owned object changed`);
    };

    const first = (await leaderPod(client))!;
    await assertQuietWindow(first, "the first leader");
    // A new leader starts from lists, not from the watch events its predecessor saw: the
    // objects it lists must look as it wants them too (the API server leaves apiVersion
    // and kind out of list items; the new leader applied everything on every pass).
    await kubectl(["-n", "redis-operator", "delete", "pod", first.metadata!.name!, "--wait=false"]);
    const next = await waitFor("a new leader that has reconciled every Redis", async () => {
      const pod = await leaderPod(client);
      if (!pod || pod.metadata?.name === first.metadata?.name) return undefined;
      const metrics = await scrapeMetrics(pod).catch(() => undefined);
      return metrics && successfulPasses(metrics) >= names.length ? pod : undefined;
    }, 90_000);
    await assertQuietWindow(next, "the next leader");
  } finally {
    await ns.remove();
    client.close();
  }
});
