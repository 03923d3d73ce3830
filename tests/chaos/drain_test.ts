/**
 * Chaos, planned, on nodes (issue 13): `kubectl drain` of the master's node
 * under write load, then of every other node in turn, as a cluster upgrade
 * does (drain, then uncordon). Eviction respects the PodDisruptionBudget; the
 * evicted master's preStop hook holds it until the operator has handed it
 * over (fence and swap), so no acknowledged write is lost.
 *
 * Asserted: 0 acknowledged writes lost, one master at the end, no needless
 * full resync. Measured and printed: each drain's longest write pause.
 */
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { recordedNodes } from "../../cluster/lib/layout.ts";
import { kubectl, layout, waitFor } from "../cluster/helpers.ts";
import { withReadyRedis } from "../e2e/fixture.ts";
import { getRedis, waitForReady } from "../e2e/operator.ts";
import { assertOneMasterEverywhere } from "./invariants.ts";
import { startLoad } from "./under_load.ts";
import { longestGap, lostWrites } from "./write_load.ts";

Deno.test("nodes: draining the master's node, then every node in turn, under load loses no write", () =>
  withReadyRedis("drain", "upgrade", async ({ client, namespace, ready: before }) => {
    const nodes = recordedNodes(layout).map((n) => n.name);
    const pods = async () =>
      (await client.request<{ items: Pod[] }>({
        path: `/api/v1/namespaces/${namespace}/pods`,
        query: { labelSelector: "redis=upgrade" },
      })).items;
    try {
      const masterNode = (await pods()).find((p) => p.metadata!.name === before.status!.master)!
        .spec!.nodeName!;
      const { load, fullSyncs } = await startLoad(client, namespace, "upgrade");
      await new Promise((r) => setTimeout(r, 1000));

      const rounds: string[] = [];
      for (const node of [masterNode, ...nodes.filter((n) => n !== masterNode)]) {
        const now = await getRedis(client, namespace, "upgrade");
        const heldMaster = (await pods()).some((p) =>
          p.metadata!.name === now.status!.master && p.spec!.nodeName === node
        );
        const from = Date.now();
        await kubectl([
          "drain",
          node,
          "--ignore-daemonsets",
          "--delete-emptydir-data",
          "--force",
          "--timeout=180s",
        ]);
        const drainedAt = Date.now();
        await waitFor(`the Redis pods off ${node} and Ready`, async () => {
          const list = await pods();
          const ready = list.length === 3 && list.every((p) =>
            p.spec?.nodeName !== node &&
            p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")
          );
          return ready ? true : undefined;
        }, 180_000);
        await waitForReady(client, namespace, "upgrade", 3, 120_000);
        await kubectl(["uncordon", node]);
        const gap = longestGap(load.acks, from);
        rounds.push(
          `${node}${heldMaster ? " (master)" : ""}: drained in ${
            ((drainedAt - from) / 1000).toFixed(1)
          } s, longest write pause ${gap.ms} ms`,
        );
      }
      const report = await load.stop();
      const after = await waitForReady(client, namespace, "upgrade");
      await assertOneMasterEverywhere(client, namespace, "upgrade");
      const syncs = await fullSyncs.assertNoNeedlessFullSync();
      const lost = await lostWrites(after.status!.masterIP!, report.acks);
      assert.deepEqual(lost, [], "no acknowledged write is lost in a drain");
      console.log(
        `drains, ${report.acks.length} acknowledged writes, 0 lost, ${syncs.fullSyncs} full resyncs for ${syncs.newProcesses} new processes:\n  ${
          rounds.join("\n  ")
        }`,
      );
    } finally {
      for (const node of nodes) await kubectl(["uncordon", node]).catch(() => {});
    }
  }));
