/**
 * Observes the Redis pods of one resource: each pod as plain data, with its
 * INFO replication read under a deadline. A pod that cannot be read is an
 * observation with an error, not a failed pass.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type Redis, redisPort, selectorLabels } from "../api/redis.ts";
import type { InstanceObservation } from "../decide/replication.ts";
import type { Fencing } from "../decide/fencing.ts";
import { parseReplicationInfo, type ReplicationInfo } from "../redis/info.ts";
import {
  type Credential,
  RedisAuthError,
  type RedisNode,
  type TlsSettings,
} from "../redis/client.ts";
import type { InstanceMonitor } from "../redis/monitor.ts";
import type { ReconcileDeps } from "./deps.ts";
import type { Reach } from "./reach.ts";
import { enterStage } from "./pass_stage.ts";

/** An observation and, for reachable instances, the open connection to act through. */
export interface ObservedInstance {
  readonly observation: InstanceObservation;
  readonly node?: RedisNode;
  readonly pod: Pod;
  /** The credential the instance accepted (password `""`: none). */
  readonly credential?: Credential;
  /** The instance answered but refused every password the operator knows. */
  readonly authFailed?: boolean;
}

/**
 * Is the pod running and ready? A pod being deleted still counts while its
 * process runs: the master's preStop hook holds it for the handover.
 */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.phase === "Running" &&
    Boolean(pod.status.podIP) &&
    (pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false);
}

/** The pods of `redis`, from the cache, by ordinal. */
export function redisPods(deps: ReconcileDeps, redis: Redis): Pod[] {
  const selector = Object.entries(selectorLabels(redis));
  return deps.caches.pods.list(
    redis.metadata?.namespace ?? "",
    (pod) => selector.every(([k, v]) => pod.metadata?.labels?.[k] === v),
  ).sort((a, b) => ordinalOf(a) - ordinalOf(b));
}

/** Seconds since the pod's Redis container started, when it runs. */
function runningSince(pod: Pod): { runningSeconds?: number } {
  const startedAt = pod.status?.containerStatuses?.find((c) => c.name === "redis")?.state?.running
    ?.startedAt;
  return startedAt
    ? { runningSeconds: Math.max(0, (Date.now() - Date.parse(startedAt)) / 1000) }
    : {};
}

/** The StatefulSet ordinal at the end of a pod name. */
export function ordinalOf(pod: Pod): number {
  return Number(pod.metadata?.name?.match(/-(\d+)$/)?.[1] ?? -1);
}

/** An instance the monitor has not heard from for this long is taken as not answering. */
const quietThresholdMs = 1000;

/**
 * Reads every ready pod's INFO replication in parallel, with how long the
 * instance monitor has not heard from each. The caller closes the connections.
 */
export async function observeInstances(
  deps: ReconcileDeps,
  redis: Redis,
  credentials: readonly Credential[],
  monitor: InstanceMonitor,
  updateRevision: string | undefined,
  reach: Reach,
): Promise<ObservedInstance[]> {
  const key = `${redis.metadata?.namespace}/${redis.metadata?.name}`;
  const pending = new Set<string>();
  return await Promise.all(
    redisPods(deps, redis).map(async (pod): Promise<ObservedInstance> => {
      const ip = pod.status?.podIP ?? "";
      const silentMs = monitor.silentForMs(ip);
      const base = {
        pod: pod.metadata?.name ?? "",
        ordinal: ordinalOf(pod),
        ip,
        ...(silentMs === undefined ? {} : { silentMs }),
        ...(pod.metadata?.deletionTimestamp ? { terminating: true } : {}),
        ...runningSince(pod),
        ...(updateRevision && pod.metadata?.labels?.["controller-revision-hash"] !== updateRevision
          ? { outdated: true }
          : {}),
      };
      const ready = isPodReady(pod);
      // A pod that is merely not ready (a slow probe, a node that lost the API server) may
      // still run a working master: it is asked too, so its answer can stop a failover.
      if (!ip || pod.status?.phase !== "Running") return { pod, observation: { ...base, ready } };
      // The monitor PINGs every instance twice a second: one it has not heard
      // from for a second is not asked again here (that would only wait out a timeout).
      if ((silentMs ?? 0) >= quietThresholdMs) {
        const error = `no answer to PING for ${silentMs} ms`;
        return { pod, observation: { ...base, ready, error, unreachable: "timeout" } };
      }
      pending.add(ip);
      enterStage(key, `observe the instances (waiting for ${[...pending].join(", ")})`);
      const read = await readInstance(deps, ip, credentials, reach.port, reach.tls);
      pending.delete(ip);
      enterStage(
        key,
        pending.size
          ? `observe the instances (waiting for ${[...pending].join(", ")})`
          : "observe the instances (all read)",
      );
      if ("error" in read) {
        const { authFailed, ...failure } = read;
        return {
          pod,
          observation: { ...base, ready, ...failure },
          ...(authFailed ? { authFailed } : {}),
        };
      }
      const { node, credential, ...answers } = read;
      return { pod, node, credential, observation: { ...base, ready, ...answers } };
    }),
  );
}

/** An instance's INFO replication and live settings, or why it could not be read. */
export type InstanceRead =
  | {
    node: RedisNode;
    credential: Credential;
    info: ReplicationInfo;
    fencing?: Fencing;
    serveStaleData?: boolean;
    keys?: number;
    runningSeconds?: number;
  }
  | { error: string; unreachable: "refused" | "timeout"; authFailed?: boolean };

/**
 * Reads one instance. Only a refused connection proves the process is gone. A
 * reset or closed connection may come from a live one (at `maxclients` Redis
 * answers with an error and closes), so it is tried once more at once: refused
 * then is proof, an answer is an answer, anything else is no proof.
 */
export async function readInstance(
  deps: Pick<ReconcileDeps, "connect">,
  ip: string,
  credentials: readonly Credential[],
  port = redisPort,
  tls?: TlsSettings,
): Promise<InstanceRead> {
  let last = "";
  for (let attempt = 0; attempt < 2; attempt++) {
    let node: RedisNode | undefined;
    let credential: Credential = { password: "" };
    try {
      [node, credential] = await connectWithAny(deps, ip, port, credentials, tls);
      const [text, fencing, serveStaleData, keys, uptime] = await Promise.all([
        node.infoReplication(),
        node.fencing().catch(() => undefined),
        node.servesStaleData().catch(() => undefined),
        node.keyCount().catch(() => undefined),
        node.uptimeSeconds().catch(() => undefined),
      ]);
      return {
        node,
        credential,
        info: parseReplicationInfo(text),
        ...(fencing ? { fencing } : {}),
        ...(serveStaleData === undefined ? {} : { serveStaleData }),
        ...(keys === undefined ? {} : { keys }),
        // The process's own clock: the pod's container status may still describe the
        // container before a restart in place.
        ...(uptime === undefined ? {} : { runningSeconds: uptime }),
      };
    } catch (error) {
      node?.close();
      last = describe(error);
      // It answered: not dead, but locked against the operator, which must say so.
      if (error instanceof RedisAuthError) {
        return { error: last, unreachable: "timeout", authFailed: true };
      }
      if (/ECONNREFUSED/.test(last)) return { error: last, unreachable: "refused" };
      if (!/ECONNRESET|EPIPE|Connection is closed/.test(last)) break;
    }
  }
  return { error: last, unreachable: "timeout" };
}

/**
 * Connects with the first of `credentials` the instance accepts, and says
 * which: during a change of password, or of spec.acl, some instances may
 * still hold only an older one.
 */
async function connectWithAny(
  deps: Pick<ReconcileDeps, "connect">,
  ip: string,
  port: number,
  credentials: readonly Credential[],
  tls: TlsSettings | undefined,
): Promise<[RedisNode, Credential]> {
  const [first = { password: "" }, ...others] = credentials;
  try {
    return [
      await deps.connect({ host: ip, port, ...first, ...(tls ? { tls } : {}) }),
      first,
    ];
  } catch (error) {
    if (!(error instanceof RedisAuthError) || others.length === 0) throw error;
    return await connectWithAny(deps, ip, port, others, tls);
  }
}

/** An error's message with the messages of its causes. */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (
    let e: unknown = error;
    e !== undefined && parts.length < 4;
    e = (e as { cause?: unknown }).cause
  ) {
    const code = (e as { code?: string }).code;
    parts.push(`${e instanceof Error ? e.message : String(e)}${code ? ` (${code})` : ""}`);
    if (!(e instanceof Error)) break;
  }
  return parts.join(": ");
}
