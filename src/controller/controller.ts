/**
 * The controller: one shared watch per kind feeds a keyed queue; each Redis
 * is reconciled by one pass at a time, different Redis resources in parallel.
 * Pod and owned-object changes wake their Redis at once.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { ConfigMap, Node, Pod, Service } from "kubernetes-types/core/v1.d.ts";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import type { NetworkPolicy } from "kubernetes-types/networking/v1.d.ts";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.d.ts";
import { fieldManager, labels, type Redis } from "../api/redis.ts";
import type { RestClient } from "../kube/client.ts";
import { Informer } from "../kube/informer.ts";
import type { KubeObject } from "../kube/watch.ts";
import type { OperatorMetrics } from "../observe/metrics.ts";
import type { RedisAddress, RedisNode } from "../redis/client.ts";
import { InstanceMonitor } from "../redis/monitor.ts";
import { buildApis, type Caches, noLongerLeading, type ReconcileDeps } from "./deps.ts";
import { leadingOnlyNode, leadingOnlyWrites } from "./leading_guard.ts";
import { reconcileRedis } from "./reconcile.ts";
import { WorkQueue } from "./work_queue.ts";

/**
 * Caches no pass waits for: Nodes only explain a lost pod, and NetworkPolicies exist
 * only where asked for (a missing one is applied again, which changes nothing).
 */
const optionalCaches = new Set(["nodes", "networkPolicies"]);

/** Options of {@linkcode runController}. */
export interface ControllerOptions {
  readonly client: RestClient;
  readonly connect: (address: RedisAddress) => Promise<RedisNode>;
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
  /** Redis resources reconciled at the same time. */
  readonly concurrency: number;
  readonly signal: AbortSignal;
  /** See {@linkcode ReconcileDeps.pauseAfterIntentMs}. */
  readonly pauseAfterIntentMs?: number;
  /** See {@linkcode ReconcileDeps.operatorNamespace}. */
  readonly operatorNamespace: string;
  /** See {@linkcode ReconcileDeps.stillLeading}. */
  readonly stillLeading?: () => boolean;
}

/** Runs until `signal` aborts (leadership lost or shutdown). */
export async function runController(options: ControllerOptions): Promise<void> {
  const { signal, log } = options;
  // Every effect of every pass asks first whether this operator still leads.
  const leading = () => !noLongerLeading(options);
  const notSent = (kind: "redis" | "api") => (what: string) => {
    options.metrics.effectsNotSent.inc({ kind });
    log.info("effect not sent: this operator no longer leads", { what });
  };
  const client = leadingOnlyWrites(options.client, leading, notSent("api"));
  const apis = buildApis(client);
  // Keys may arrive while the caches fill; no pass runs before every cache has synced.
  let markSynced = () => {};
  const synced = new Promise<void>((resolve) => markSynced = resolve);
  const queue = new WorkQueue(async (key) => {
    await synced;
    if (signal.aborted) return {};
    try {
      const result = await reconcileRedis(deps, key);
      options.metrics.reconciles.inc({ result: "success" });
      return result;
    } catch (error) {
      // A pass cut short by the end of the lead did not fail: the next leader goes on.
      if (!leading()) {
        log.info("pass ended with the lead", { key, error: String(error) });
        return {};
      }
      options.metrics.reconciles.inc({ result: "error" });
      options.metrics.reconcileErrors.inc();
      throw error;
    }
  }, {
    concurrency: options.concurrency,
    signal,
    onError: (key, error, retryInMs) =>
      log.warn("reconcile failed", {
        namespace: key.split("/")[0],
        name: key.split("/")[1],
        retryInMs,
        error: String(error),
      }),
  });
  const wake = (object: KubeObject & { metadata?: { labels?: Record<string, string> } }) => {
    const owner = object.metadata?.labels?.[labels.instance];
    if (owner && object.metadata?.namespace) queue.add(`${object.metadata.namespace}/${owner}`);
  };
  const owned = `${labels.managedBy}=${fieldManager}`;
  const caches: Caches = {
    redis: new Informer<Redis>(client, apis.redis.path(undefined), {
      onChange: (redis) => queue.add(`${redis.metadata?.namespace}/${redis.metadata?.name}`),
    }),
    pods: new Informer<Pod>(client, apis.pods.path(undefined), {
      labelSelector: owned,
      onChange: wake,
    }),
    configMaps: new Informer<ConfigMap>(client, apis.configMaps.path(undefined), {
      labelSelector: owned,
      onChange: wake,
    }),
    services: new Informer<Service>(client, apis.services.path(undefined), {
      labelSelector: owned,
      onChange: wake,
    }),
    statefulSets: new Informer<StatefulSet>(client, apis.statefulSets.path(undefined), {
      labelSelector: owned,
      onChange: wake,
    }),
    pdbs: new Informer<PodDisruptionBudget>(client, apis.pdbs.path(undefined), {
      labelSelector: owned,
      onChange: wake,
    }),
    // Ours and, through the Service's labels, any the EndpointSlice controller wrote.
    endpointSlices: new Informer<EndpointSlice>(client, apis.endpointSlices.path(undefined), {
      labelSelector: owned,
      onChange: wake,
    }),
    // A node that stops reporting, or is marked out of service, changes what the Redis
    // pods on it can do: their Redis resources report it.
    networkPolicies: new Informer<NetworkPolicy>(client, apis.networkPolicies.path(undefined), {
      labelSelector: owned,
      onChange: wake,
    }),
    nodes: new Informer<Node>(client, "/api/v1/nodes", {
      onChange: (node) => {
        for (const pod of caches.pods.all()) {
          if (pod.spec?.nodeName === node.metadata?.name) wake(pod);
        }
      },
    }),
  };
  const monitors = new Map<string, InstanceMonitor>();
  signal.addEventListener("abort", () => {
    for (const monitor of monitors.values()) monitor.close();
  });
  const deps: ReconcileDeps = {
    signal: options.signal,
    stillLeading: leading,
    client,
    apis,
    caches,
    connect: async (address) =>
      leadingOnlyNode(await options.connect(address), leading, notSent("redis")),
    monitors: {
      get: (key) => {
        let monitor = monitors.get(key);
        if (!monitor) {
          // Evidence from Redis itself wakes the Redis at once, without waiting for Kubernetes.
          monitor = new InstanceMonitor({
            onEvidence: (ip, evidence) => {
              log.info("instance evidence", {
                namespace: key.split("/")[0],
                name: key.split("/")[1],
                ip,
                evidence,
              });
              queue.add(key);
            },
            // Once per silence: an instance that stays down (a pod in restart back-off) is
            // renewed every 5 s, which at 100 Redis was most of the log.
            onRenew: (ip, oldStatus, first) => {
              const properties = {
                namespace: key.split("/")[0],
                name: key.split("/")[1],
                ip,
                oldStatus,
              };
              if (first) log.info("monitor connection renewed after silence", properties);
              else log.debug("monitor connection renewed after silence", properties);
            },
          });
          monitors.set(key, monitor);
        }
        return monitor;
      },
      forget: (key) => {
        monitors.get(key)?.close();
        monitors.delete(key);
      },
    },
    metrics: options.metrics,
    log: log.getChild("reconcile"),
    now: () => new Date(),
    pauseAfterIntentMs: options.pauseAfterIntentMs ?? 0,
    operatorNamespace: options.operatorNamespace,
  };
  const watchErrors = (kind: string) => (error: unknown) =>
    log.warn("watch failed, retrying", { kind, error: String(error) });
  const watches = Object.entries(caches).map(([kind, informer]) =>
    informer.run(signal, watchErrors(kind))
  );
  // Nodes only explain a lost pod (decide/node_loss.ts skips nodes it does not know): a
  // missing permission or a slow list of a big cluster's Nodes must not hold up failovers.
  await Promise.all(
    Object.entries(caches).filter(([kind]) => !optionalCaches.has(kind)).map(([, informer]) =>
      informer.synced
    ),
  );
  if (signal.aborted) return;
  // The first list already queued every Redis (each LIST entry is a change).
  markSynced();
  log.info("controller started", { redis: caches.redis.all().length });
  await Promise.all(watches);
}
