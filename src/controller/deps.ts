/**
 * Everything a reconcile pass uses, gathered so passes stay plain functions.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { ConfigMap, Node, Pod, Service } from "kubernetes-types/core/v1.d.ts";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import type { NetworkPolicy } from "kubernetes-types/networking/v1.d.ts";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.d.ts";
import { StatefulSetApi } from "../../generated/apps@v1/mod.ts";
import { ConfigMapApi, PodApi, SecretApi, ServiceApi } from "../../generated/core@v1/mod.ts";
import { EndpointSliceApi } from "../../generated/discovery.k8s.io@v1/mod.ts";
import { NetworkPolicyApi } from "../../generated/networking.k8s.io@v1/mod.ts";
import { PodDisruptionBudgetApi } from "../../generated/policy@v1/mod.ts";
import { type Redis, RedisApi } from "../api/redis.ts";
import type { RestClient } from "../kube/client.ts";
import type { Informer } from "../kube/informer.ts";
import type { OperatorMetrics } from "../observe/metrics.ts";
import type { RedisAddress, RedisNode } from "../redis/client.ts";
import type { InstanceMonitor } from "../redis/monitor.ts";

/** Typed API calls. */
export interface Apis {
  readonly redis: RedisApi;
  readonly pods: PodApi;
  readonly configMaps: ConfigMapApi;
  readonly secrets: SecretApi;
  readonly services: ServiceApi;
  readonly statefulSets: StatefulSetApi;
  readonly pdbs: PodDisruptionBudgetApi;
  readonly endpointSlices: EndpointSliceApi;
  readonly networkPolicies: NetworkPolicyApi;
}

/** Builds the API classes over one client. */
export function buildApis(client: RestClient): Apis {
  return {
    redis: new RedisApi(client),
    pods: new PodApi(client),
    configMaps: new ConfigMapApi(client),
    secrets: new SecretApi(client),
    services: new ServiceApi(client),
    statefulSets: new StatefulSetApi(client),
    pdbs: new PodDisruptionBudgetApi(client),
    endpointSlices: new EndpointSliceApi(client),
    networkPolicies: new NetworkPolicyApi(client),
  };
}

/** Watch-fed caches: a pass reads the cluster from memory. */
export interface Caches {
  readonly redis: Informer<Redis>;
  readonly pods: Informer<Pod>;
  readonly configMaps: Informer<ConfigMap>;
  readonly services: Informer<Service>;
  readonly statefulSets: Informer<StatefulSet>;
  readonly pdbs: Informer<PodDisruptionBudget>;
  readonly endpointSlices: Informer<EndpointSlice>;
  /** Nodes, to tell why a pod is unreachable (decide/node_loss.ts). */
  readonly nodes: Informer<Node>;
  /** The optional NetworkPolicies (specs/network_policy.ts). */
  readonly networkPolicies: Informer<NetworkPolicy>;
}

/** What a reconcile pass needs. */
export interface ReconcileDeps {
  readonly client: RestClient;
  readonly apis: Apis;
  readonly caches: Caches;
  readonly connect: (address: RedisAddress) => Promise<RedisNode>;
  /** The instance monitor of a Redis (by key), created on first use; `forget` closes it. */
  readonly monitors: { get(key: string): InstanceMonitor; forget(key: string): void };
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
  readonly now: () => Date;
  /**
   * Test hook (REDIS_OPERATOR_TEST_PAUSE_AFTER_INTENT_MS): wait this long after
   * writing an intent, so a chaos test can kill the operator between intent
   * and promotion. 0 in production.
   */
  readonly pauseAfterIntentMs: number;
  /** The operator's own namespace: its pods are the ones a NetworkPolicy admits. */
  readonly operatorNamespace: string;
  /** Aborts when the controller stops (leadership lost): delayed effects are dropped. */
  readonly signal?: AbortSignal;
  /**
   * False once this operator may no longer act (leader_election.ts
   * `StillLeading`); absent without leader election.
   */
  readonly stillLeading?: () => boolean;
}

/**
 * Whether the pass must stop before its next effect: the controller is
 * stopping, or the Lease's renew deadline passed (asked at once, not left to
 * the step-down timer).
 */
export function noLongerLeading(deps: Pick<ReconcileDeps, "signal" | "stillLeading">): boolean {
  return deps.stillLeading?.() === false || deps.signal?.aborted === true;
}
