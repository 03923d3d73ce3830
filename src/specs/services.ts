/**
 * The four Services of one Redis: all instances, headless (stable pod DNS),
 * the master (selects role=master) and the replicas (role=replica).
 *
 * @module
 */
import type { Service } from "kubernetes-types/core/v1.d.ts";
import {
  labels,
  objectNames,
  ownedMetadata,
  type Redis,
  redisPort,
  selectorLabels,
} from "../api/redis.ts";

/** Builds the Services, in the order: all, headless, master, replica. */
export function buildServices(redis: Redis): Service[] {
  const names = objectNames(redis.metadata?.name ?? "");
  const service = (
    name: string,
    extraSelector: Record<string, string>,
    headless: boolean,
  ): Service => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(redis, name),
    spec: {
      ...(headless ? { clusterIP: "None", publishNotReadyAddresses: true } : { type: "ClusterIP" }),
      selector: { ...selectorLabels(redis), ...extraSelector },
      ports: [{ name: "redis", port: redisPort, targetPort: "redis", protocol: "TCP" }],
    },
  });
  return [
    service(names.base, {}, false),
    service(names.headless, {}, true),
    service(names.master, { [labels.role]: "master" }, false),
    service(names.replica, { [labels.role]: "replica" }, false),
  ];
}
