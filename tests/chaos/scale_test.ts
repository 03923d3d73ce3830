/**
 * Chaos, planned: a scale-up under write load. The default fence is a majority
 * of the members in sync, so new replicas still copying must not make the
 * master refuse writes (a fence of half of spec.replicas did: 3 for 6
 * instances, with 2 replicas in sync).
 */
import assert from "node:assert/strict";
import { clusterClient, kubectl, testNamespace } from "../cluster/helpers.ts";
import { deployOperator, redisManifest, waitForReady } from "../e2e/operator.ts";
import { assertOneMasterEverywhere } from "./invariants.ts";
import { longestGap, lostWrites, WriteLoad } from "./write_load.ts";

Deno.test("planned: a scale-up from 3 to 6 under load refuses no write and loses none", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("scaleup");
  try {
    await kubectl(["-n", ns.name, "apply", "-f", "-"], redisManifest("grow"));
    await waitForReady(client, ns.name, "grow");
    const load = new WriteLoad(client, ns.name, "redis-grow-master");
    await load.start();
    await new Promise((r) => setTimeout(r, 1000));
    const from = Date.now();
    await kubectl(["-n", ns.name, "scale", "redis", "grow", "--replicas", "6"]);
    const after = await waitForReady(client, ns.name, "grow", 6, 120_000).catch(async (error) => {
      // Seen once in a full run, not alone: say where it stands, so the cause can be found.
      const pods = await kubectl(["-n", ns.name, "get", "pods", "-o", "wide"]).catch(String);
      const redis = await kubectl([
        "-n",
        ns.name,
        "get",
        "redis",
        "grow",
        "-o",
        "jsonpath={.status}",
      ])
        .catch(String);
      const nodes = await kubectl(["get", "nodes", "-o", "wide"]).catch(String);
      throw new Error(`${error.message}\npods:\n${pods}\nstatus: ${redis}\nnodes:\n${nodes}`);
    });
    await new Promise((r) => setTimeout(r, 1000));
    const report = await load.stop();
    await assertOneMasterEverywhere(client, ns.name, "grow");
    const refused = report.refusals.filter((r) => r.at >= from && /NOREPLICAS/.test(r.message));
    assert.deepEqual(refused, [], "no write refused for want of replicas while new ones copy");
    assert.deepEqual(await lostWrites(after.status!.masterIP!, report.acks), []);
    console.log(
      `scale-up 3 → 6: ${report.acks.length} acknowledged writes, 0 refused, 0 lost, longest pause ${
        longestGap(report.acks, from).ms
      } ms`,
    );
  } finally {
    await ns.remove();
    client.close();
  }
});
