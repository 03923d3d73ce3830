/**
 * A steady write load that records every acknowledged write, the way a
 * careful client would see a failover: it writes to whatever the master
 * Service's EndpointSlice lists, and afterwards checks which acknowledged
 * writes the final master still holds.
 *
 * @module
 */
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import { Redis } from "ioredis";
import type { KubeClient } from "../../src/kube/client.ts";
import { listWatch } from "../../src/kube/watch.ts";
import { tlsOptions } from "../../src/redis/client.ts";

/** One acknowledged write. */
export interface Ack {
  readonly seq: number;
  readonly at: number;
  readonly ip: string;
}

/** The first of a run of refused writes with the same answer. */
export interface Refusal {
  readonly at: number;
  readonly ip: string;
  readonly message: string;
}

/** What the load saw. */
export interface LoadReport {
  readonly acks: readonly Ack[];
  readonly failures: number;
  /** Refused writes, a run of the same answer from the same address kept once. */
  readonly refusals: readonly Refusal[];
  /** When the master Service's endpoints changed, and to what. */
  readonly endpointChanges: ReadonlyArray<{ at: number; ips: string[] }>;
}

/** Writes `load:<seq>` keys to the master Service's endpoint until stopped. */
export class WriteLoad {
  readonly #acks: Ack[] = [];
  readonly #endpointChanges: Array<{ at: number; ips: string[] }> = [];
  #failures = 0;
  readonly #refusals: Refusal[] = [];
  #target: string | undefined;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #watching: Promise<void> | undefined;

  #password: string | undefined;
  #passwordChanged = false;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly service: string,
    password?: string,
    private readonly reach: TlsReach = { port: 6379 },
  ) {
    this.#password = password;
  }

  /**
   * From the next write on, connects with `password` (undefined: none), as an
   * application does that is given the new password when the Secret changes.
   */
  usePassword(password: string | undefined): void {
    this.#password = password;
    this.#passwordChanged = true;
  }

  /** Starts watching the endpoints and writing; resolves once the first write is acknowledged. */
  async start(): Promise<void> {
    this.#watching = this.#watchEndpoints();
    this.#running = this.#write();
    while (this.#acks.length === 0) {
      if (this.#stop.signal.aborted) throw new Error("load stopped");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Acknowledged writes so far. */
  get acks(): readonly Ack[] {
    return this.#acks;
  }

  /** Changes of the master Service's endpoints so far. */
  get endpointChanges(): ReadonlyArray<{ at: number; ips: string[] }> {
    return this.#endpointChanges;
  }

  /** Stops writing and returns what happened. */
  async stop(): Promise<LoadReport> {
    this.#stop.abort();
    await this.#running;
    await this.#watching;
    return {
      acks: this.#acks,
      failures: this.#failures,
      refusals: this.#refusals,
      endpointChanges: this.#endpointChanges,
    };
  }

  async #watchEndpoints(): Promise<void> {
    const path = `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices`;
    const slices = new Map<string, EndpointSlice>();
    const update = () => {
      const ips = [...slices.values()].flatMap((s) => s.endpoints ?? [])
        .filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses).sort();
      const last = this.#endpointChanges.at(-1);
      if (!last || last.ips.join() !== ips.join()) {
        this.#endpointChanges.push({ at: Date.now(), ips });
      }
      this.#target = ips.length === 1 ? ips[0] : undefined;
    };
    for await (
      const event of listWatch<EndpointSlice>(this.client, path, {
        labelSelector: `kubernetes.io/service-name=${this.service}`,
        signal: this.#stop.signal,
      })
    ) {
      if (event.type === "LIST") {
        slices.clear();
        for (const item of event.items) slices.set(item.metadata!.name!, item);
      } else if (event.type === "DELETED") {
        slices.delete(event.object.metadata!.name!);
      } else {
        slices.set(event.object.metadata!.name!, event.object);
      }
      update();
    }
  }

  async #write(): Promise<void> {
    let seq = 0;
    let connection: { ip: string; redis: Redis } | undefined;
    while (!this.#stop.signal.aborted) {
      const target = this.#target;
      if (!target) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      if (connection?.ip !== target || this.#passwordChanged) {
        this.#passwordChanged = false;
        connection?.redis.disconnect();
        const redis = new Redis({
          host: target,
          port: this.reach.port,
          ...tlsOption(this.reach),
          ...(this.#password ? { password: this.#password } : {}),
          connectTimeout: 300,
          commandTimeout: 300,
          maxRetriesPerRequest: 0,
          enableOfflineQueue: false,
          enableReadyCheck: false,
          retryStrategy: () => 20,
        });
        redis.on("error", () => {});
        connection = { ip: target, redis };
      }
      const n = ++seq;
      try {
        await connection.redis.set(`load:${n}`, String(n));
        this.#acks.push({ seq: n, at: Date.now(), ip: target });
        // About a thousand writes a second: fine-grained enough to time a failover to the millisecond.
        await new Promise((r) => setTimeout(r, 1));
      } catch (error) {
        this.#failures++;
        const message = String(error instanceof Error ? error.message : error).slice(0, 80);
        const last = this.#refusals.at(-1);
        if (last?.ip !== target || last.message !== message) {
          this.#refusals.push({ at: Date.now(), ip: target, message });
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    connection?.redis.disconnect();
  }
}

/** The port writers use and, for TLS, the CA they trust. */
export interface TlsReach {
  readonly port: number;
  readonly ca?: string;
}

/** ioredis options for `reach`: TLS as the operator speaks it (src/redis/client.ts). */
export function tlsOption(reach: TlsReach) {
  return reach.ca ? { tls: tlsOptions({ ca: reach.ca }) } : {};
}

/** Which acknowledged writes the instance at `ip` no longer holds. */
export async function lostWrites(
  ip: string,
  acks: readonly Pick<Ack, "seq">[],
  password?: string,
  prefix = "load",
  reach: TlsReach = { port: 6379 },
): Promise<number[]> {
  const redis = new Redis({
    host: ip,
    port: reach.port,
    ...tlsOption(reach),
    ...(password ? { password } : {}),
    lazyConnect: true,
  });
  redis.on("error", () => {});
  await redis.connect();
  try {
    const lost: number[] = [];
    for (let i = 0; i < acks.length; i += 500) {
      const batch = acks.slice(i, i + 500);
      const values = await redis.mget(...batch.map((a) => `${prefix}:${a.seq}`));
      values.forEach((value, j) => {
        if (value !== String(batch[j]!.seq)) lost.push(batch[j]!.seq);
      });
    }
    return lost;
  } finally {
    redis.disconnect();
  }
}

/** The longest time between two consecutive acknowledgements after `from`. */
export function longestGap(acks: readonly Ack[], from = 0): { ms: number; after: number } {
  let best = { ms: 0, after: 0 };
  for (let i = 1; i < acks.length; i++) {
    if (acks[i]!.at < from) continue;
    const gap = acks[i]!.at - acks[i - 1]!.at;
    if (gap > best.ms) best = { ms: gap, after: acks[i - 1]!.at };
  }
  return best;
}

/** What happened during a pause of writes, for the test log: refusals and Service changes. */
export function describeGap(report: LoadReport, gap: { ms: number; after: number }): string {
  const end = gap.after + gap.ms;
  const within = (at: number) => at >= gap.after && at <= end;
  const lines = [
    ...report.refusals.filter((r) => within(r.at)).map((r) => ({
      at: r.at,
      text: `${r.ip} refused: ${r.message}`,
    })),
    ...report.endpointChanges.filter((c) => within(c.at)).map((c) => ({
      at: c.at,
      text: `master Service -> [${c.ips.join(", ")}]`,
    })),
  ].sort((a, b) => a.at - b.at);
  return lines.map((l) => `  +${l.at - gap.after} ms ${l.text}`).join("\n");
}
