/**
 * The four Services of one Redis: all instances, headless (stable pod DNS),
 * the master and the replicas (role=replica). The master Service has no
 * selector: the operator writes its EndpointSlice in the pass that changes
 * the master (see master_endpoints.ts).
 *
 * @module
 */
import type { Service } from "kubernetes-types/core/v1.d.ts";
import {
  labels,
  objectNames,
  ownedMetadata,
  type Redis,
  redisPorts,
  selectorLabels,
} from "../api/redis.ts";

/** Builds the Services, in the order: all, headless, master, replica. */
export function buildServices(redis: Redis): Service[] {
  const names = objectNames(redis.metadata?.name ?? "");
  const service = (
    name: string,
    selector: Record<string, string> | undefined,
    headless: boolean,
  ): Service => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(redis, name),
    spec: {
      ...(headless ? { clusterIP: "None", publishNotReadyAddresses: true } : { type: "ClusterIP" }),
      ...(selector ? { selector } : {}),
      ports: redisPorts(redis).map(({ name, port }) => ({
        name,
        port,
        targetPort: name,
        protocol: "TCP",
      })),
    },
  });
  return [
    service(names.base, selectorLabels(redis), false),
    service(names.headless, selectorLabels(redis), true),
    service(names.master, undefined, false),
    service(names.replica, { ...selectorLabels(redis), [labels.role]: "replica" }, false),
  ];
}
