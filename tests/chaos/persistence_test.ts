/**
 * Persistence under faults (issue 11): RDB and AOF on a PersistentVolumeClaim
 * per pod (`dataVolumeClaimTemplate`), under a steady write load.
 *
 * 1. kill -9 of the master: its container restarts at once with the AOF it
 *    had, which is behind the new master by then (the stale old master);
 * 2. every pod deleted at once: all of them restart from their own files.
 *
 * Checked after each: exactly one writable master, the one the status names;
 * every acknowledged write is still on it, except writes a killed master
 * acknowledged within the fencing bound before its kill (asynchronous
 * replication); so a restarted instance whose data is behind never wrote over
 * newer data. Full resyncs are counted as in the other chaos cases.
 */
import assert from "node:assert/strict";
import { fault, kubectl, waitFor } from "../cluster/helpers.ts";
import { withReadyRedis } from "../e2e/fixture.ts";
import { getRedis, waitForReady } from "../e2e/operator.ts";
import { assertOneMasterEverywhere, fencingBoundMs, writableInstances } from "./invariants.ts";
import { startLoad } from "./under_load.ts";
import { type Ack, lostWrites } from "./write_load.ts";

const persistent = {
  config: { appendonly: "yes", appendfsync: "everysec", save: "60 100" },
  dataVolumeClaimTemplate: {
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
  },
};

Deno.test("persistence: RDB and AOF on volumes keep every acknowledged write through kill -9 and the loss of every pod", () =>
  withReadyRedis("persist", "disk", async ({ client, namespace: n, ready: start }) => {
    const { load, fullSyncs } = await startLoad(client, n, "disk");
    await new Promise((r) => setTimeout(r, 2000));

    // 1. kill -9 of the master; it comes back at once from its own, older, AOF.
    const killedIP = start.status!.masterIP!;
    const killedAt = Date.now();
    await fault("kill", n, start.status!.master!);
    await waitFor(
      "a write accepted by a new master",
      () => Promise.resolve(load.acks.find((a) => a.at > killedAt && a.ip !== killedIP)),
      30_000,
    );
    const afterKill = await waitForReady(client, n, "disk", 3, 120_000);
    assert.notEqual(afterKill.status!.masterIP, killedIP);
    await new Promise((r) => setTimeout(r, 2000));
    await assertOneMasterEverywhere(client, n, "disk");
    assert.deepEqual(await writableInstances(n, "redis=disk"), [afterKill.status!.masterIP]);
    const kills = [{ at: killedAt, ip: killedIP }];
    const firstPart = [...load.acks];
    const killLosses = outsideBound(
      await lostWrites(afterKill.status!.masterIP!, firstPart),
      firstPart,
      kills,
    );
    assert.deepEqual(killLosses.outside, [], "only writes within the fencing bound of the kill");
    const syncs = await fullSyncs.report();
    console.log(
      `kill -9 with AOF: ${firstPart.length} acknowledged, ${killLosses.within} lost within the bound; ${syncs.fullSyncs} full resyncs for ${syncs.newProcesses} restarted processes`,
    );

    // 2. Every pod deleted at once: each restarts from its own RDB and AOF.
    const before = await getRedis(client, n, "disk");
    const deletedAt = Date.now();
    await kubectl(["-n", n, "delete", "pods", "-l", "redis=disk", "--wait=false"]);
    const back = await waitFor("every pod replaced and Ready again", async () => {
      const redis = await waitForReady(client, n, "disk", 3, 240_000);
      const pods = JSON.parse(
        await kubectl(["-n", n, "get", "pods", "-l", "redis=disk", "-o", "json"]),
      ).items as { metadata: { creationTimestamp: string } }[];
      const replaced = pods.every((p) =>
        Date.parse(p.metadata.creationTimestamp) >= deletedAt - 1000
      );
      return replaced && pods.length === 3 ? redis : undefined;
    }, 300_000);
    await new Promise((r) => setTimeout(r, 2000));
    const report = await load.stop();
    await assertOneMasterEverywhere(client, n, "disk");
    assert.deepEqual(await writableInstances(n, "redis=disk"), [back.status!.masterIP]);
    // A graceful deletion loses nothing: Redis writes its files on SIGTERM, and the master's
    // preStop hook holds it until it has handed over or its replicas are gone. Only the
    // kill's window may be missing.
    const lost = outsideBound(
      await lostWrites(back.status!.masterIP!, report.acks),
      report.acks,
      kills,
    );
    assert.deepEqual(lost.outside, [], "every acknowledged write survived the loss of every pod");
    const all = await fullSyncs.assertNoNeedlessFullSync();
    console.log(
      `every pod deleted with AOF: ${report.acks.length} acknowledged in all, ${lost.within} lost (all within the kill's bound); master ${before.status?.master} -> ${back.status?.master}, epoch ${before.status?.epoch} -> ${back.status?.epoch}; ${all.fullSyncs} full resyncs for ${all.newProcesses} new processes`,
    );
  }, { spec: persistent, readyTimeoutMs: 180_000 }));

/** Splits lost writes into those a killed master acknowledged within the fencing bound and the rest. */
function outsideBound(
  lost: readonly number[],
  acks: readonly Ack[],
  kills: readonly { at: number; ip: string }[],
): { lost: number[]; within: number; outside: number[] } {
  const bySeq = new Map(acks.map((a) => [a.seq, a]));
  const outside = lost.filter((seq) => {
    const ack = bySeq.get(seq)!;
    return !kills.some((k) => k.ip === ack.ip && k.at >= ack.at && k.at - ack.at <= fencingBoundMs);
  });
  return { lost: [...lost], within: lost.length - outside.length, outside };
}
