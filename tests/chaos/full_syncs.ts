/**
 * Counts full resynchronisations (`sync_full` in INFO stats) across every
 * Redis process of one resource while a chaos case runs, to check that no
 * instance was copied in full without need.
 *
 * `sync_full` lives in the memory of the master that served the sync, so the
 * counter of a process is keyed by its `run_id` and sampled a few times a
 * second: a restarted process starts again at 0, and one that dies keeps the
 * count it was last seen with.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { PodApi } from "../../generated/core@v1/mod.ts";
import type { KubeClient } from "../../src/kube/client.ts";

const sampleEveryMs = 250;

/** What one process has served. */
interface ProcessCount {
  readonly baseline: number;
  latest: number;
}

/** One process as sampled. */
interface ProcessSample {
  readonly runId: string;
  readonly fullSyncs: number;
  readonly keys: number;
}

/** What the tracker saw between start and stop. */
export interface FullSyncReport {
  /** Full syncs served by all processes during the case. */
  readonly fullSyncs: number;
  /** Processes that did not exist at the start (restarted or new pods): each needs one full copy. */
  readonly newProcesses: number;
  /**
   * Full syncs served by a process holding less than half the most keys any
   * process was seen with: a copy from an (almost) empty instance, which wipes
   * its replica. Meaningful under a load that only adds keys.
   */
  readonly fromEmpty: number;
}

/** Samples `sync_full` of every pod of `redis=<name>` until stopped. */
export class FullSyncTracker {
  readonly #processes = new Map<string, ProcessCount>();
  readonly #initial = new Set<string>();
  #mostKeys = 0;
  #fromEmpty = 0;
  #ips: string[] = [];
  readonly #stop = new AbortController();
  #sampling: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  /** Takes the baseline of every running process, then keeps sampling. */
  async start(): Promise<void> {
    for (const { runId, fullSyncs, keys } of await this.#sample()) {
      this.#initial.add(runId);
      this.#processes.set(runId, { baseline: fullSyncs, latest: fullSyncs });
      this.#mostKeys = Math.max(this.#mostKeys, keys);
    }
    this.#sampling = (async () => {
      while (!this.#stop.signal.aborted) {
        await new Promise((r) => setTimeout(r, sampleEveryMs));
        this.#record(await this.#sample());
      }
    })();
  }

  /** Full syncs and new processes so far. */
  async report(): Promise<FullSyncReport> {
    this.#record(await this.#sample());
    let fullSyncs = 0;
    for (const count of this.#processes.values()) fullSyncs += count.latest - count.baseline;
    const newProcesses = [...this.#processes.keys()].filter((id) => !this.#initial.has(id)).length;
    return { fullSyncs, newProcesses, fromEmpty: this.#fromEmpty };
  }

  /**
   * Stops sampling and asserts that every full sync was needed: one per new
   * process, plus `allowedExtra` the case explains (an old master that wrote
   * on alone has a history its new master does not share).
   */
  async assertNoNeedlessFullSync(allowedExtra = 0): Promise<FullSyncReport> {
    this.#stop.abort();
    await this.#sampling;
    const report = await this.report();
    assert.ok(
      report.fullSyncs <= report.newProcesses + allowedExtra,
      `${report.fullSyncs} full resyncs for ${report.newProcesses} new processes (+${allowedExtra} allowed)`,
    );
    return report;
  }

  #record(sample: ProcessSample[]): void {
    for (const { runId, fullSyncs, keys } of sample) {
      const known = this.#processes.get(runId);
      const served = fullSyncs - (known?.latest ?? 0);
      if (served > 0 && keys < this.#mostKeys / 2) this.#fromEmpty += served;
      this.#mostKeys = Math.max(this.#mostKeys, keys);
      if (known) known.latest = Math.max(known.latest, fullSyncs);
      else this.#processes.set(runId, { baseline: 0, latest: fullSyncs });
    }
  }

  /**
   * Every process that answers now, at the pods' addresses; while the API
   * server does not answer (a control-plane fault), at the last ones known.
   */
  async #sample(): Promise<ProcessSample[]> {
    this.#ips = await new PodApi(this.client).list(this.namespace, {
      labelSelector: `redis=${this.name}`,
    }).then(
      (pods) => pods.items.map((p) => p.status?.podIP).filter((ip): ip is string => !!ip),
      (error) => {
        if (this.#ips.length === 0) throw error;
        return this.#ips;
      },
    );
    const counts = await Promise.all(this.#ips.map(readCounter));
    return counts.filter((c) => c !== undefined);
  }
}

async function readCounter(ip: string): Promise<ProcessSample | undefined> {
  const redis = new Redis({
    host: ip,
    port: 6379,
    lazyConnect: true,
    connectTimeout: 300,
    commandTimeout: 300,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    const text = String(await redis.call("INFO"));
    const runId = text.match(/run_id:(\w+)/)?.[1];
    const fullSyncs = Number(text.match(/sync_full:(\d+)/)?.[1] ?? NaN);
    const keys = Number(text.match(/^db0:keys=(\d+)/m)?.[1] ?? 0);
    return runId && Number.isFinite(fullSyncs) ? { runId, fullSyncs, keys } : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}
