/**
 * Linearizability under planned handovers (issue 12): eight concurrent
 * clients (go-redis, default options) read, write and compare-and-set twenty
 * keys through the master Service's DNS name while, on four pods, the
 * master's pod is deleted, a switchover to the highest ordinal is requested,
 * a scale-down to three removes that pod (the master moves first) and the
 * image is rolled. Every
 * operation's invocation, completion and result is recorded, reads of every
 * key's final value are appended, and Porcupine checks the history against a
 * key-value register. Planned handovers must be linearizable: no acknowledged
 * write lost, no stale read, no compare-and-set that saw an older value.
 * Beside them, pipelined writers through the same name (tests/chaos/pipelined_load.ts)
 * make the load heavy, and none of their acknowledged writes may be lost.
 */
import assert from "node:assert/strict";
import { clusterClient, kubectl, testNamespace, waitFor } from "../cluster/helpers.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "../e2e/operator.ts";
import { startAppPod, writerPaths } from "./app_writers.ts";
import {
  appendFinalReads,
  checkHistory,
  historyKeys,
  HistoryRecorder,
} from "./history_recorder.ts";
import { PipelinedLoad } from "./pipelined_load.ts";

const clients = 8;
const annotation = "redis-operator.dev/switchover";
/** Enough that no key's share of 400 000 operations strains Porcupine (see fault_mix.ts). */
const keys = 20;

Deno.test("linearizable: a history of concurrent clients through pod deletion, switchover, scale-down and rolling update", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("linear");
  const n = ns.name;
  const file = await Deno.makeTempFile({ prefix: "history-", suffix: ".jsonl" });
  let heavy: PipelinedLoad | undefined;
  try {
    await kubectl(["-n", n, "apply", "-f", "-"], redisManifest("lin", { replicas: 4 }));
    let ready = await waitForReady(client, n, "lin", 4);
    const app = await startAppPod(client, n, "app");
    const tool = (await writerPaths()).HISTORY_TOOL!;
    const recorder = new HistoryRecorder(tool, app, "redis-lin-master:6379", file, {
      clients,
      keys,
    });
    // Heavy load beside the history: pipelined writers through the same Service name.
    heavy = new PipelinedLoad(`redis-lin-master.${n}.svc.cluster.local`);
    const started = Date.now();
    const settle = () => new Promise((r) => setTimeout(r, 1500));
    const newMaster = async (previous: string, what: string, instances: number) => {
      await waitFor(what, async () => {
        const now = await getRedis(client, n, "lin");
        return now.status?.master && now.status.master !== previous ? now : undefined;
      }, 90_000);
      return await waitForReady(client, n, "lin", instances, 180_000);
    };
    await settle();

    // The master's pod deleted: its preStop hook holds it for a planned handover.
    await kubectl(["-n", n, "delete", "pod", ready.status!.master!, "--wait=false"]);
    ready = await newMaster(ready.status!.master!, "a new master after the pod's deletion", 4);
    await settle();

    // A switchover to a named replica: the highest ordinal, which the scale-down removes.
    const target = "redis-lin-3";
    const switchTo = async (pod: string) => {
      await kubectl(["-n", n, "annotate", "--overwrite", "redis", "lin", `${annotation}=${pod}`]);
      return await newMaster(ready.status!.master!, `the master to move to ${pod}`, 4);
    };
    if (ready.status!.master === target) {
      // Already there (the pod's deletion chose it): to another one first.
      ready = await switchTo("redis-lin-0");
      await settle();
    }
    ready = await switchTo(target);
    await settle();

    // A scale-down that removes the master's pod: the master moves first.
    await kubectl(["-n", n, "scale", "redis", "lin", "--replicas", "3"]);
    ready = await newMaster(target, "the master to move off the removed pod", 3);
    await settle();

    // A rolling update: replicas first, then the master after a handover.
    await kubectl([
      "-n",
      n,
      "patch",
      "redis",
      "lin",
      "--type=merge",
      "-p",
      '{"spec":{"redis":{"image":"redis:7.0.15"}}}',
    ]);
    ready = await newMaster(
      ready.status!.master!,
      "the master handed over by the rolling update",
      3,
    );
    await waitFor("every pod on the new image", async () => {
      const images = await kubectl([
        "-n",
        n,
        "get",
        "pods",
        "-l",
        "redis=lin",
        "-o",
        "jsonpath={.items[*].spec.containers[0].image}",
      ]);
      return images.split(" ").filter((i) => i === "redis:7.0.15").length === 3 || undefined;
    }, 180_000);
    ready = await waitForReady(client, n, "lin", 3, 180_000);
    await settle();

    const pipelined = await heavy.check(ready.status!.masterIP!);
    const ops = await recorder.stop();
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `pipelined writers: ${pipelined.acknowledged} acknowledged writes (${pipelined.perSecond}/s), ${pipelined.regressions} replaced a value below an acknowledged one, ${pipelined.lostKeys} keys lost one at the end`,
    );
    await appendFinalReads(file, ready.status!.masterIP!, historyKeys(ops), clients);
    const verdict = await checkHistory(tool, file, `linearizable-planned-${n}`);
    const ok = ops.filter((o) => o.result === "ok").length;
    console.log(
      `planned handovers: ${ops.length} operations in ${seconds.toFixed(1)} s (${
        (ops.length / seconds).toFixed(0)
      }/s, ${ok} ok), ${JSON.stringify(verdict.counts)}: ${verdict.result}`,
    );
    assert.equal(
      verdict.result,
      "Ok",
      `not linearizable on ${verdict.illegalKeys?.join(", ")}: see ${verdict.html}`,
    );
    assert.ok(ok > 1000, "the clients made progress");
    assert.equal(
      pipelined.regressions,
      0,
      `no acknowledged pipelined write lost during the handovers: ${pipelined.regressionSamples}`,
    );
    assert.equal(pipelined.lostKeys, 0, "no acknowledged pipelined write lost at the end");
    assert.ok(pipelined.acknowledged > 10_000, "the pipelined writers made progress");
  } finally {
    await heavy?.stop();
    await Deno.remove(file).catch(() => {});
    await ns.remove();
  }
});
