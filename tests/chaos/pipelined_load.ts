/**
 * Heavy pipelined writes through the master Service's name, across
 * handovers, with memory that does not grow with the rate (issue 12: planned
 * handovers lose nothing under heavy load).
 *
 * Each client owns its keys and writes them in turn, each SET carrying the
 * client's next sequence number, in pipelines. Replication applies a master's
 * writes in order, so a lost acknowledged write leaves its key below the last
 * sequence number acknowledged for it. Keys are reused every `keysPerClient`
 * writes, which would overwrite such a loss within milliseconds, so every SET
 * also returns the value it replaced (`SET ... GET`, Redis 6.2 and later):
 * a replaced value below the last acknowledged one is a loss seen as it
 * happens, on whichever instance answered. At the end every key must still
 * hold its last acknowledged number or a later one (a later, unacknowledged
 * write may have been applied). A client whose connection fails reconnects
 * through the Service, as an application does, and goes on.
 *
 * @module
 */
import { Redis } from "ioredis";

/** What the load did and what the final master lacks. */
export interface PipelinedLoadReport {
  readonly acknowledged: number;
  /** Keys whose final value is below the last sequence number acknowledged for them. */
  readonly lostKeys: number;
  /** Acknowledged SETs that replaced a value below the last one acknowledged for their key. */
  readonly regressions: number;
  /** The first few regressions, for the failure message. */
  readonly regressionSamples: readonly string[];
  /** Acknowledged writes per second, over the run. */
  readonly perSecond: number;
}

/** Pipelined SETs from `clients` clients to `host`:`port` until stopped. */
export class PipelinedLoad {
  readonly #lastAcked = new Map<string, number>();
  #acknowledged = 0;
  #regressions = 0;
  readonly #regressionSamples: string[] = [];
  #stopped = false;
  readonly #started = performance.now();
  #seconds: number | undefined;
  readonly #running: Promise<void>[];

  constructor(
    private readonly host: string,
    private readonly port = 6379,
    clients = 2,
    private readonly keysPerClient = 2000,
    private readonly batch = 50,
  ) {
    this.#running = Array.from({ length: clients }, (_, c) => this.#write(c));
  }

  async #write(c: number): Promise<void> {
    let seq = 0;
    while (!this.#stopped) {
      const client = new Redis({
        host: this.host,
        port: this.port,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
        lazyConnect: true,
        connectTimeout: 2000,
      });
      client.on("error", () => {});
      try {
        await client.connect();
        while (!this.#stopped) {
          const writes = Array.from({ length: this.batch }, () => {
            seq++;
            const key = `p:${c}:${seq % this.keysPerClient}`;
            // Final before the pipeline is sent: a client has one pipeline in flight.
            return { key, seq, expected: this.#lastAcked.get(key) };
          });
          const pipeline = client.pipeline();
          for (const { key, seq } of writes) pipeline.set(key, String(seq), "GET");
          const results = await pipeline.exec();
          let refused = !results;
          for (const [i, { key, seq, expected }] of writes.entries()) {
            if (!results?.[i] || results[i]![0]) {
              refused = true;
              continue;
            }
            this.#lastAcked.set(key, seq);
            this.#acknowledged++;
            const replaced = results[i]![1] as string | null;
            if (expected !== undefined && wentBack(replaced, expected)) {
              this.#regressions++;
              if (this.#regressionSamples.length < 5) {
                this.#regressionSamples.push(
                  `${key}: replaced ${replaced}, acknowledged ${expected}`,
                );
              }
            }
          }
          if (refused) break;
        }
      } catch {
        // Refused, reset or closed (a handover disconnects clients): connect again.
      } finally {
        client.disconnect();
      }
      if (!this.#stopped) await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops the writers; what they had acknowledged is then final. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#running);
    this.#seconds ??= (performance.now() - this.#started) / 1000;
  }

  /** Checks every key written on the instance at `masterHost` (stops the writers first). */
  async check(masterHost: string): Promise<PipelinedLoadReport> {
    await this.stop();
    const redis = new Redis({ host: masterHost, port: this.port });
    try {
      const keys = [...this.#lastAcked.keys()];
      let lostKeys = 0;
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000);
        const values = await redis.mget(...chunk);
        for (const [j, value] of values.entries()) {
          if (wentBack(value, this.#lastAcked.get(chunk[j]!)!)) lostKeys++;
        }
      }
      return {
        acknowledged: this.#acknowledged,
        lostKeys,
        regressions: this.#regressions,
        regressionSamples: this.#regressionSamples,
        perSecond: Math.round(this.#acknowledged / this.#seconds!),
      };
    } finally {
      redis.disconnect();
    }
  }
}

/** True when a key's value lacks `acknowledged`: missing, not a number, or an earlier number. */
export function wentBack(value: string | null, acknowledged: number): boolean {
  const held = Number(value ?? NaN);
  return !Number.isFinite(held) || held < acknowledged;
}
