/**
 * A planned change under the sequential write load, checked as every planned
 * case is (tests/chaos/planned_test.ts, versions_test.ts): no acknowledged
 * write lost, no needless full copy, one master everywhere; the longest pause
 * of writes is reported.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { KubeClient } from "../../src/kube/client.ts";
import { getRedis } from "../e2e/operator.ts";
import { FullSyncTracker } from "./full_syncs.ts";
import { assertOneMasterEverywhere } from "./invariants.ts";
import { describeGap, longestGap, lostWrites, WriteLoad } from "./write_load.ts";

/**
 * Starts the sequential write load on the master Service of the Redis `name`
 * and the tracker of full copies beside it.
 */
export async function startLoad(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<{ load: WriteLoad; fullSyncs: FullSyncTracker }> {
  const load = new WriteLoad(client, namespace, `redis-${name}-master`);
  await load.start();
  const fullSyncs = new FullSyncTracker(client, namespace, name);
  await fullSyncs.start();
  return { load, fullSyncs };
}

/**
 * Runs `action` under load, waits for `settled`, then checks: returns how
 * many writes were acknowledged and the longest pause.
 */
export async function underLoad(
  client: KubeClient,
  namespace: string,
  name: string,
  action: () => Promise<void>,
  settled: () => Promise<unknown>,
): Promise<{ acks: number; pauseMs: number }> {
  const { load, fullSyncs } = await startLoad(client, namespace, name);
  await new Promise((r) => setTimeout(r, 500));
  const started = Date.now();
  await action();
  await settled();
  await new Promise((r) => setTimeout(r, 500));
  const report = await load.stop();
  // A planned handover keeps every replica's history: only new processes are copied in full.
  const syncs = await fullSyncs.assertNoNeedlessFullSync();
  console.log(`full resyncs: ${syncs.fullSyncs} for ${syncs.newProcesses} new processes`);
  await assertOneMasterEverywhere(client, namespace, name);
  const final = await getRedis(client, namespace, name);
  const lost = await lostWrites(final.status!.masterIP!, report.acks);
  assert.deepEqual(lost, [], `${lost.length} of ${report.acks.length} acknowledged writes lost`);
  const gap = longestGap(report.acks, started);
  console.log(`longest pause, ${gap.ms} ms:\n${describeGap(report, gap)}`);
  return { acks: report.acks.length, pauseMs: gap.ms };
}
