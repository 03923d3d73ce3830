/**
 * The PodDisruptionBudget: voluntary disruptions (drains, evictions) take at
 * most one Redis pod at a time, so a master and a replica always remain.
 *
 * @module
 */
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.d.ts";
import { objectNames, ownedMetadata, type Redis, selectorLabels } from "../api/redis.ts";

/** Builds the PodDisruptionBudget. */
export function buildPodDisruptionBudget(redis: Redis): PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: ownedMetadata(redis, objectNames(redis.metadata?.name ?? "").base),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(redis) } },
  };
}
