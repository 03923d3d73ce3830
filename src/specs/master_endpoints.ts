/**
 * The master Service's EndpointSlice, written by the operator itself.
 *
 * Why not a `role=master` selector: the EndpointSlice controller reacts to the
 * two label changes of a failover as two syncs, and the second one often finds
 * its own cache behind its last write ("EndpointSlice informer cache is out of
 * date") and retries after a one-second backoff. Clients then wait a second
 * longer for the new master. Writing the slice in the same pass as the
 * promotion puts the Service on the new master within milliseconds.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import { commonLabels, objectNames, ownerReference, type Redis, redisPorts } from "../api/redis.ts";

/** The label that ties a slice to its Service. */
export const serviceNameLabel = "kubernetes.io/service-name";
/** The label that says which controller writes a slice. */
export const sliceManagerLabel = "endpointslice.kubernetes.io/managed-by";
/** Our value of {@linkcode sliceManagerLabel}; the built-in controllers leave such slices alone. */
export const sliceManager = "redis-operator.dev";

/**
 * The master Service's slice: the master pod's address when there is a
 * master, no endpoint otherwise.
 */
export function buildMasterEndpointSlice(
  redis: Redis,
  master: { readonly pod: Pod; readonly ip: string } | undefined,
  addressType: "IPv4" | "IPv6" = master ? addressFamily(master.ip) : "IPv4",
): EndpointSlice {
  const names = objectNames(redis.metadata?.name ?? "");
  const pod = master?.pod.metadata;
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: names.master,
      namespace: redis.metadata?.namespace ?? "",
      labels: {
        ...commonLabels(redis),
        [serviceNameLabel]: names.master,
        [sliceManagerLabel]: sliceManager,
      },
      ownerReferences: [ownerReference(redis)],
    },
    addressType,
    ports: redisPorts(redis).map(({ name, port }) => ({ name, port, protocol: "TCP" })),
    endpoints: master
      ? [{
        addresses: [master.ip],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: {
          kind: "Pod",
          namespace: pod?.namespace ?? "",
          name: pod?.name ?? "",
          ...(pod?.uid ? { uid: pod.uid } : {}),
        },
        ...(master.pod.spec?.nodeName ? { nodeName: master.pod.spec.nodeName } : {}),
      }]
      : [],
  };
}

/** The EndpointSlice address type of an IP address. */
export function addressFamily(ip: string): "IPv4" | "IPv6" {
  return ip.includes(":") ? "IPv6" : "IPv4";
}

/**
 * Slices of the master Service that someone else wrote, to be deleted: the
 * EndpointSlice controller's, left over from when the Service had a selector.
 */
export function foreignMasterSlices(
  redis: Redis,
  slices: readonly EndpointSlice[],
): EndpointSlice[] {
  const master = objectNames(redis.metadata?.name ?? "").master;
  return slices.filter((slice) =>
    slice.metadata?.labels?.[serviceNameLabel] === master &&
    slice.metadata.labels[sliceManagerLabel] !== sliceManager
  );
}
