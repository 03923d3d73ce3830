/**
 * The PodDisruptionBudget: voluntary disruptions (drains, evictions) take at
 * most one Redis pod at a time, so a master and a replica always remain.
 *
 * @module
 */
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.d.ts";
import {
  commonLabels,
  objectNames,
  ownerReference,
  type Redis,
  selectorLabels,
} from "../api/redis.ts";

/** Builds the PodDisruptionBudget. */
export function buildPodDisruptionBudget(redis: Redis): PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: {
      name: objectNames(redis.metadata?.name ?? "").base,
      namespace: redis.metadata?.namespace ?? "",
      labels: commonLabels(redis),
      ownerReferences: [ownerReference(redis)],
    },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(redis) } },
  };
}
