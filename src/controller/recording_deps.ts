/**
 * Reconcile dependencies for unit tests of the controller: no cluster, no
 * Redis; every API request is recorded and answered with version "43".
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { KubeRequest, RestClient } from "../kube/client.ts";
import { buildApis, type ReconcileDeps } from "./deps.ts";

/** A transport that records every request and answers each write with version "43". */
export function recordingDeps(): { deps: ReconcileDeps; statusWrites: KubeRequest[] } {
  const statusWrites: KubeRequest[] = [];
  const client: RestClient = {
    request: <T>(request: KubeRequest) => {
      if (request.path.endsWith("/status")) statusWrites.push(request);
      return Promise.resolve({ metadata: { resourceVersion: "43" } } as T);
    },
    stream: () => Promise.reject(new Error("no watches here")),
  };
  const deps = {
    client,
    apis: buildApis(client),
    log: getLogger(["test"]),
    now: () => new Date(0),
    pauseAfterIntentMs: 0,
    operatorNamespace: "redis-operator",
    metrics: {
      failovers: { inc: () => {} },
      failoverSeconds: { observe: () => {} },
    },
  } as unknown as ReconcileDeps;
  return { deps, statusWrites };
}
