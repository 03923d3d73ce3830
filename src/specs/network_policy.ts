/**
 * The optional NetworkPolicy of one Redis (spec.networkPolicy): ingress to
 * the Redis ports (plain and TLS, as open) of
 * its pods only from the operator's pods, the set's own pods (replication,
 * the preStop hook's checks run inside each pod) and the peers the spec lists;
 * the exporter's port only from `metricsFrom`. Egress is left alone.
 *
 * @module
 */
import type { NetworkPolicy, NetworkPolicyPeer } from "kubernetes-types/networking/v1.d.ts";
import {
  objectNames,
  ownedMetadata,
  type Redis,
  redisPorts,
  selectorLabels,
} from "../api/redis.ts";

/** The labels of the operator's own pods (deploy/deployment.yaml). */
export const operatorPodLabels = { "app.kubernetes.io/name": "redis-operator" } as const;

/** The port of the exporter sidecar (specs/stateful_set.ts). */
export const metricsPort = 9121;

/**
 * Builds the NetworkPolicy, or undefined without spec.networkPolicy. The
 * operator's pods are matched in `operatorNamespace` by name label, which the
 * API server sets on every namespace.
 */
export function buildNetworkPolicy(
  redis: Redis,
  operatorNamespace: string,
): NetworkPolicy | undefined {
  const spec = redis.spec?.networkPolicy;
  if (!spec) return undefined;
  const operator: NetworkPolicyPeer = {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": operatorNamespace } },
    podSelector: { matchLabels: { ...operatorPodLabels } },
  };
  const ownPods: NetworkPolicyPeer = { podSelector: { matchLabels: selectorLabels(redis) } };
  const users = (spec.from ?? []) as NetworkPolicyPeer[];
  const scrapers = (spec.metricsFrom ?? []) as NetworkPolicyPeer[];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: ownedMetadata(redis, objectNames(redis.metadata?.name ?? "").base),
    spec: {
      podSelector: { matchLabels: selectorLabels(redis) },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [operator, ownPods, ...users],
          ports: redisPorts(redis).map(({ port }) => ({ protocol: "TCP", port })),
        },
        ...(scrapers.length && redis.spec?.exporter?.image
          ? [{ from: scrapers, ports: [{ protocol: "TCP", port: metricsPort }] }]
          : []),
      ],
    },
  };
}
