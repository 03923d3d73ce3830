/**
 * Prometheus metrics of the operator, rendered in the text exposition format.
 *
 * @module
 */

type Labels = Record<string, string>;

const labelText = (labels: Labels) => {
  const entries = Object.entries(labels);
  return entries.length
    ? `{${entries.map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`).join(",")}}`
    : "";
};

/** The labels naming one Redis in per-Redis series. */
export function redisLabels(redis: { metadata?: { namespace?: string; name?: string } }): Labels {
  return { namespace: redis.metadata?.namespace ?? "", name: redis.metadata?.name ?? "" };
}

/** A counter or gauge with labels. */
class Series {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string, readonly type: "counter" | "gauge") {}
  /** Adds `by` (default 1). */
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.#values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.#values.set(key, entry);
  }
  /** Sets the value (gauges). */
  set(labels: Labels, value: number): void {
    this.#values.set(labelText(labels), { labels, value });
  }
  /** Removes every series whose labels include all of `labels` (all of them for `{}`). */
  deleteMatching(labels: Labels): void {
    for (const [key, entry] of this.#values) {
      if (Object.entries(labels).every(([k, v]) => entry.labels[k] === v)) this.#values.delete(key);
    }
  }
  /** The current value, for tests. */
  get(labels: Labels = {}): number {
    return this.#values.get(labelText(labels))?.value ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels, value } of this.#values.values()) {
      lines.push(`${this.name}${labelText(labels)} ${value}`);
    }
    return lines.join("\n");
  }
}

/** A histogram with fixed buckets. */
class Histogram {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;
  constructor(readonly name: string, readonly help: string, readonly buckets: number[]) {
    this.#counts = buckets.map(() => 0);
  }
  /** Records one observation. */
  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    this.buckets.forEach((bound, i) => {
      if (value <= bound) this.#counts[i]!++;
    });
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((bound, i) =>
      lines.push(`${this.name}_bucket{le="${bound}"} ${this.#counts[i]}`)
    );
    lines.push(
      `${this.name}_bucket{le="+Inf"} ${this.#count}`,
      `${this.name}_sum ${this.#sum}`,
      `${this.name}_count ${this.#count}`,
    );
    return lines.join("\n");
  }
}

/** Every metric the operator exports. */
export class OperatorMetrics {
  readonly reconciles = new Series(
    "redis_operator_reconciles_total",
    "Reconcile passes, by result.",
    "counter",
  );
  readonly reconcileErrors = new Series(
    "redis_operator_reconcile_errors_total",
    "Reconcile passes that failed.",
    "counter",
  );
  readonly effectsNotSent = new Series(
    "redis_operator_effects_not_sent_total",
    "Effects a pass did not send because this replica no longer led, by kind (redis, api).",
    "counter",
  );
  readonly failovers = new Series(
    "redis_operator_failovers_total",
    "Changes of master, per Redis and reason.",
    "counter",
  );
  readonly failoverSeconds = new Histogram(
    "redis_operator_failover_duration_seconds",
    "Time from deciding a new master to every reachable replica pointing at it.",
    [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  readonly leader = new Series(
    "redis_operator_leader",
    "1 while this replica is the leader.",
    "gauge",
  );
  readonly apiRequests = new Series(
    "redis_operator_api_requests_total",
    "Requests to the Kubernetes API, by method and resource.",
    "counter",
  );
  readonly connectedInstances = new Series(
    "redis_operator_connected_instances",
    "Master plus linked replicas, per Redis.",
    "gauge",
  );
  readonly desiredInstances = new Series(
    "redis_operator_desired_instances",
    "Instances the spec asks for, per Redis.",
    "gauge",
  );
  readonly condition = new Series(
    "redis_operator_condition",
    "1 when the condition of a Redis is True, else 0; per Redis, type and reason.",
    "gauge",
  );
  readonly masterInfo = new Series(
    "redis_operator_master",
    "1 for the pod the status names as master, per Redis, with its epoch.",
    "gauge",
  );
  readonly replicationLag = new Series(
    "redis_operator_replication_lag_bytes",
    "How far each replica's offset is behind its master's, per Redis and pod, as last observed.",
    "gauge",
  );

  /** The per-Redis series: dropped when a Redis goes or this replica stops leading. */
  #perRedis(): Series[] {
    return [
      this.connectedInstances,
      this.desiredInstances,
      this.condition,
      this.masterInfo,
      this.replicationLag,
    ];
  }

  /** Forgets the gauges of one Redis (deleted), or of every Redis (leadership lost). */
  forgetRedis(redis?: { namespace: string; name: string }): void {
    for (const series of this.#perRedis()) series.deleteMatching(redis ?? {});
  }

  readonly sentinelClients = new Series(
    "redis_operator_sentinel_clients",
    "Clients connected to this replica's Sentinel endpoint.",
    "gauge",
  );
  readonly sentinelMessages = new Series(
    "redis_operator_sentinel_messages_total",
    "Messages pushed to Sentinel endpoint subscribers, by channel.",
    "counter",
  );
  readonly sentinelCommands = new Series(
    "redis_operator_sentinel_commands_total",
    "Commands received by the Sentinel endpoint, by command.",
    "counter",
  );

  /** Counts one API request; the resource is the collection name in the path (`pods`, `leases`...). */
  countRequest(method: string, path: string): void {
    const parts = path.split("?")[0]!.split("/").filter(Boolean);
    const namespaced = parts.indexOf("namespaces");
    const resource = namespaced >= 0 && parts.length > namespaced + 2
      ? parts[namespaced + 2]!
      : parts[parts[0] === "api" ? 2 : 3] ?? "other";
    const subresource = parts.length > (namespaced >= 0 ? namespaced + 4 : 5)
      ? `/${parts.at(-1)}`
      : "";
    this.apiRequests.inc({ method, resource: resource + subresource });
  }

  /** The process's memory, read at each scrape (the leader's grows with the Redis it manages). */
  readonly memory = new Series(
    "redis_operator_memory_bytes",
    "The operator process's memory: rss (resident), heap_used and heap_total (V8's heap), external.",
    "gauge",
  );

  /** The text exposition of every metric. */
  render(): string {
    const usage = Deno.memoryUsage();
    this.memory.set({ kind: "rss" }, usage.rss);
    this.memory.set({ kind: "heap_used" }, usage.heapUsed);
    this.memory.set({ kind: "heap_total" }, usage.heapTotal);
    this.memory.set({ kind: "external" }, usage.external);
    return [
      this.memory,
      this.reconciles,
      this.reconcileErrors,
      this.effectsNotSent,
      this.failovers,
      this.failoverSeconds,
      this.leader,
      this.apiRequests,
      ...this.#perRedis(),
      this.sentinelClients,
      this.sentinelMessages,
      this.sentinelCommands,
    ]
      .map((m) => m.render()).join("\n") + "\n";
  }
}
