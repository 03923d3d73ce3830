/**
 * Reconcile dependencies for unit tests of the controller: no cluster, no
 * Redis; every API request is recorded and answered with version "43", and
 * the caches hold what the test gives them.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { KubeRequest, RestClient } from "../kube/client.ts";
import type { Informer } from "../kube/informer.ts";
import type { KubeObject } from "../kube/watch.ts";
import { buildApis, type Caches, type ReconcileDeps } from "./deps.ts";

/** A transport that records every request and answers each write with version "43". */
export function recordingDeps(
  cached: Partial<Record<keyof Caches, KubeObject[]>> = {},
): { deps: ReconcileDeps; statusWrites: KubeRequest[]; requests: KubeRequest[] } {
  const statusWrites: KubeRequest[] = [];
  const requests: KubeRequest[] = [];
  const client: RestClient = {
    request: <T>(request: KubeRequest) => {
      requests.push(request);
      if (request.path.endsWith("/status")) statusWrites.push(request);
      return Promise.resolve({ metadata: { resourceVersion: "43" } } as T);
    },
    stream: () => Promise.reject(new Error("no watches here")),
  };
  const caches = new Proxy({} as Caches, {
    get: (_, kind: keyof Caches) => staticCache(cached[kind] ?? []),
  });
  const deps = {
    client,
    apis: buildApis(client),
    caches,
    log: getLogger(["test"]),
    now: () => new Date(0),
    pauseAfterIntentMs: 0,
    operatorNamespace: "redis-operator",
    metrics: {
      failovers: { inc: () => {} },
      failoverSeconds: { observe: () => {} },
      effectsNotSent: { inc: () => {} },
    },
  } as unknown as ReconcileDeps;
  return { deps, statusWrites, requests };
}

/** An informer's reads over a fixed set of objects. */
function staticCache(objects: KubeObject[]): Informer<KubeObject> {
  const inNamespace = (namespace: string) =>
    objects.filter((o) => o.metadata?.namespace === namespace);
  return {
    get: (namespace: string, name: string) =>
      inNamespace(namespace).find((o) => o.metadata?.name === name),
    list: (namespace: string, filter: (o: KubeObject) => boolean = () => true) =>
      inNamespace(namespace).filter(filter),
    all: () => objects,
  } as unknown as Informer<KubeObject>;
}
