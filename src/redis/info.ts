/**
 * Parses `INFO replication` into a plain snapshot. Pure.
 *
 * Redis 7 and Valkey print `slave*` field names; newer Valkey versions may
 * print `replica*` ones, so both spellings are accepted.
 *
 * @module
 */

/** One replica line of a master's INFO (`slaveN:ip=…,port=…,state=…,offset=…,lag=…`). */
export interface ConnectedReplica {
  readonly ip: string;
  readonly port: number;
  /** `online`, `wait_bgsave`, `send_bulk`… */
  readonly state: string;
  readonly offset: number;
  readonly lag: number;
}

/** What `INFO replication` says about one instance. */
export interface ReplicationInfo {
  readonly role: "master" | "replica";
  readonly connectedReplicas: readonly ConnectedReplica[];
  readonly replId: string;
  readonly replId2: string;
  /** The instance's own replication offset (`master_repl_offset`). */
  readonly offset: number;
  readonly secondReplOffset: number;
  /** `master_failover_state`: `no-failover`, `waiting-for-sync`, `failover-in-progress`. */
  readonly failoverState: string;
  /** Replica fields; undefined on a master. */
  readonly masterHost?: string;
  readonly masterPort?: number;
  readonly masterLinkUp?: boolean;
  readonly syncInProgress?: boolean;
  /** `slave_repl_offset`: what the replica has processed from its master. */
  readonly replicaOffset?: number;
  readonly priority?: number;
  readonly linkDownSinceSeconds?: number;
  /** Seconds since the replica last heard from its master (-1 when never). */
  readonly masterLastIoSeconds?: number;
}

/** The replication id of an instance that has no history (never a master's). */
export const emptyReplId = "0000000000000000000000000000000000000000";

/**
 * Parses the text of `INFO replication` (or a full `INFO`).
 *
 * @example
 * ```ts
 * const info = parseReplicationInfo("role:master\r\nconnected_slaves:0\r\nmaster_repl_offset:7\r\n");
 * console.assert(info.role === "master" && info.offset === 7);
 * ```
 */
export function parseReplicationInfo(text: string): ReplicationInfo {
  const fields = new Map<string, string>();
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  const get = (...names: string[]) => names.map((n) => fields.get(n)).find((v) => v !== undefined);
  const num = (fallback: number, ...names: string[]) => {
    const value = get(...names);
    return value === undefined || value === "" ? fallback : Number(value);
  };
  const role = get("role");
  if (role !== "master" && role !== "slave" && role !== "replica") {
    throw new Error(`INFO replication has no valid role: ${role ?? "missing"}`);
  }
  const connectedReplicas: ConnectedReplica[] = [];
  for (const [key, value] of fields) {
    if (/^(slave|replica)\d+$/.test(key)) connectedReplicas.push(parseReplicaLine(value));
  }
  const base = {
    connectedReplicas,
    replId: get("master_replid") ?? "",
    replId2: get("master_replid2") ?? emptyReplId,
    offset: num(0, "master_repl_offset"),
    secondReplOffset: num(-1, "second_repl_offset"),
    failoverState: get("master_failover_state") ?? "no-failover",
  };
  if (role === "master") return { role: "master", ...base };
  return {
    role: "replica",
    ...base,
    masterHost: get("master_host") ?? "",
    masterPort: num(6379, "master_port"),
    masterLinkUp: get("master_link_status") === "up",
    syncInProgress: get("master_sync_in_progress") === "1",
    replicaOffset: num(0, "slave_repl_offset", "replica_repl_offset"),
    priority: num(100, "slave_priority", "replica_priority"),
    linkDownSinceSeconds: num(-1, "master_link_down_since_seconds"),
    masterLastIoSeconds: num(-1, "master_last_io_seconds_ago"),
  };
}

/**
 * Parses `ip=…,port=…,state=…,offset=…,lag=…`. The ip may be IPv6 (it holds
 * colons but never commas), so the line is split on commas first.
 */
export function parseReplicaLine(value: string): ConnectedReplica {
  const parts = new Map<string, string>();
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) parts.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return {
    ip: parts.get("ip") ?? "",
    port: Number(parts.get("port") ?? 0),
    state: parts.get("state") ?? "",
    offset: Number(parts.get("offset") ?? 0),
    lag: Number(parts.get("lag") ?? 0),
  };
}
