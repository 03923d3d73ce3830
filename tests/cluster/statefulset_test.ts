/**
 * The local cluster runs a StatefulSet of real redis-server pods the way a
 * Kubernetes node would: readiness, EndpointSlices, restarts, deletion,
 * network faults and persistent volumes.
 */
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import { recordedNodes } from "../../cluster/lib/layout.ts";
import {
  clusterClient,
  fault,
  kubectl,
  layout,
  redisCli,
  testNamespace,
  waitFor,
} from "./helpers.ts";

const fixture = await Deno.readTextFile(
  new URL("../fixtures/redis_statefulset.yaml", import.meta.url),
);

Deno.test("a StatefulSet of three Redis pods runs like on a real node", async (t) => {
  const client = await clusterClient();
  const ns = await testNamespace("sts");
  const pods = (selector = "app=redis-fixture") =>
    client.request<{ items: Pod[] }>({
      path: `/api/v1/namespaces/${ns.name}/pods`,
      query: { labelSelector: selector },
    });
  const pod = (name: string) =>
    client.request<Pod>({ path: `/api/v1/namespaces/${ns.name}/pods/${name}` });
  const isReady = (p: Pod) =>
    p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], fixture);

    let ips: string[] = [];
    await t.step("all three become Ready with distinct pod IPs", async () => {
      const ready = await waitFor("three Ready pods", async () => {
        const list = (await pods()).items;
        return list.length === 3 && list.every(isReady) ? list : undefined;
      }, 90_000);
      ips = ready.map((p) => p.status?.podIP ?? "");
      assert.equal(new Set(ips).size, 3, `pod IPs must be distinct: ${ips}`);
      for (const ip of ips) assert.match(ip, /^198\.18\./);
      for (const p of ready) {
        const status = p.status!;
        assert.equal(status.phase, "Running");
        const node = recordedNodes(layout).find((n) => n.name === p.spec?.nodeName);
        assert.equal(status.hostIP, node?.ip, "hostIP is the InternalIP of the pod's node");
        assert.ok(status.startTime);
        assert.equal(status.containerStatuses?.[0]?.ready, true);
        assert.ok(status.containerStatuses?.[0]?.state?.running?.startedAt);
        for (const type of ["Initialized", "ContainersReady", "Ready", "PodScheduled"]) {
          const condition = status.conditions?.find((c) => c.type === type);
          assert.equal(condition?.status, "True", `condition ${type}`);
          assert.ok(condition?.lastTransitionTime, `condition ${type} has a transition time`);
        }
      }
    });

    await t.step("the headless Service's EndpointSlices list every pod", async () => {
      const listed = await waitFor("EndpointSlices with three ready endpoints", async () => {
        const slices = await client.request<{ items: EndpointSlice[] }>({
          path: `/apis/discovery.k8s.io/v1/namespaces/${ns.name}/endpointslices`,
          query: { labelSelector: "kubernetes.io/service-name=redis-headless" },
        });
        const addresses = slices.items.flatMap((s) =>
          s.endpoints.filter((e) => e.conditions?.ready)
        )
          .flatMap((e) => e.addresses);
        return addresses.length === 3 ? addresses : undefined;
      });
      assert.deepEqual([...listed].sort(), [...ips].sort());
    });

    await t.step("every pod answers PING on its own IP", async () => {
      for (const ip of ips) assert.equal(await redisCli(ip, "PING"), "PONG");
    });

    await t.step("fault kill restarts the container and raises restartCount", async () => {
      const before = (await pod("redis-0")).status?.containerStatuses?.[0]?.restartCount ?? 0;
      await fault("kill", ns.name, "redis-0");
      const after = await waitFor("a restart of redis-0", async () => {
        const status = (await pod("redis-0")).status?.containerStatuses?.[0];
        return status && status.restartCount > before && status.ready ? status : undefined;
      });
      assert.equal(after.restartCount, before + 1);
      assert.equal(after.lastState?.terminated?.exitCode, 137, "SIGKILL shows as exit code 137");
    });

    await t.step("fault isolate cuts a pod off and heal restores it", async () => {
      const ip = (await pod("redis-1")).status!.podIP!;
      await fault("isolate", ns.name, "redis-1");
      await assert.rejects(redisCli(ip, "PING"), "an isolated pod must not answer");
      await fault("heal", ns.name, "redis-1");
      assert.equal(await redisCli(ip, "PING"), "PONG");
    });

    await t.step("fault stop freezes the process and cont resumes it", async () => {
      const ip = (await pod("redis-2")).status!.podIP!;
      await fault("stop", ns.name, "redis-2");
      await assert.rejects(redisCli(ip, "PING"), "a stopped redis-server must not answer");
      await fault("cont", ns.name, "redis-2");
      assert.equal(await redisCli(ip, "PING"), "PONG");
    });

    await t.step(
      "a deleted pod comes back with the same name and keeps its volume's data",
      async () => {
        const old = await pod("redis-1");
        assert.equal(await redisCli(old.status!.podIP!, "SET", "survivor", "yes"), "OK");
        // appendonly is on: the write is in the AOF on the pod's PersistentVolume.
        await kubectl(["-n", ns.name, "delete", "pod", "redis-1", "--wait=true"]);
        const fresh = await waitFor("redis-1 to come back Ready", async () => {
          const p = await pod("redis-1").catch(() => undefined);
          return p && p.metadata?.uid !== old.metadata?.uid && isReady(p) ? p : undefined;
        }, 90_000);
        assert.equal(fresh.metadata?.name, "redis-1");
        assert.equal(await redisCli(fresh.status!.podIP!, "GET", "survivor"), "yes");
      },
    );
  } finally {
    await ns.remove();
    client.close();
  }
});
