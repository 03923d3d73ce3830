/**
 * The master Service's slice on the API side (issue 8, item 7): emptied once
 * the master's pod is gone or has another address, kept while the recorded
 * master's pod is only slow to answer, and replaced when the address family
 * changes.
 */
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import { type Redis, selectorLabels } from "../api/redis.ts";
import { buildMasterEndpointSlice } from "../specs/master_endpoints.ts";
import { recordingDeps } from "./recording_deps.ts";
import { syncMasterEndpoints } from "./sync_objects.ts";

const redis: Redis = {
  metadata: { name: "cache", namespace: "prod", uid: "u" },
  spec: { replicas: 3 },
  status: { master: "redis-cache-0", masterIP: "198.18.1.10", epoch: 3 },
};

const pod = (name: string, ip: string): Pod => ({
  metadata: {
    name,
    namespace: "prod",
    uid: `uid-${name}`,
    labels: selectorLabels(redis),
  },
  spec: { containers: [], nodeName: "node-1" },
  status: { phase: "Running", podIP: ip },
});

/** The slice as the API server would hold it after our apply for `master`. */
const sliceFor = (master: Pod | undefined, ip = master?.status?.podIP ?? "") =>
  buildMasterEndpointSlice(redis, master && { pod: master, ip }) as EndpointSlice;

/** The addresses of every slice the pass applied, and the slices it deleted. */
function written(requests: ReadonlyArray<{ method?: string; path: string; body?: unknown }>) {
  const slices = requests.filter((r) => r.path.includes("/endpointslices/"));
  return {
    applied: slices.filter((r) => r.method === "PATCH").map((r) => {
      const body = r.body as EndpointSlice;
      return { type: body.addressType, addresses: body.endpoints.flatMap((e) => e.addresses) };
    }),
    deleted: slices.filter((r) => r.method === "DELETE").length,
  };
}

Deno.test("syncMasterEndpoints() empties the slice once the master's pod is gone", async () => {
  const old = pod("redis-cache-0", "198.18.1.10");
  const { deps, requests } = recordingDeps({ endpointSlices: [sliceFor(old)], pods: [] });
  assert.equal(await syncMasterEndpoints(deps, redis, undefined), true);
  assert.deepEqual(written(requests), { applied: [{ type: "IPv4", addresses: [] }], deleted: 0 });
});

Deno.test("syncMasterEndpoints() empties the slice when the master's pod came back with another address", async () => {
  const old = pod("redis-cache-0", "198.18.1.10");
  const recreated = pod("redis-cache-0", "198.18.1.77");
  const { deps, requests } = recordingDeps({
    endpointSlices: [sliceFor(old)],
    pods: [recreated],
  });
  // Observed by its old address (a stale status): the Service must not point there.
  await syncMasterEndpoints(deps, redis, { pod: "redis-cache-0", ip: "198.18.1.10" });
  assert.deepEqual(written(requests).applied, [{ type: "IPv4", addresses: [] }]);
});

Deno.test("syncMasterEndpoints() keeps the slice while the recorded master's pod is there, only silent", async () => {
  const master = pod("redis-cache-0", "198.18.1.10");
  const { deps, requests } = recordingDeps({ endpointSlices: [sliceFor(master)], pods: [master] });
  assert.equal(await syncMasterEndpoints(deps, redis, undefined), false);
  assert.deepEqual(requests, []);
});

Deno.test("syncMasterEndpoints() points the slice at a new master, and writes nothing when it already does", async () => {
  const old = pod("redis-cache-0", "198.18.1.10");
  const next = pod("redis-cache-1", "198.18.1.11");
  const moving = recordingDeps({ endpointSlices: [sliceFor(old)], pods: [old, next] });
  await syncMasterEndpoints(moving.deps, redis, { pod: "redis-cache-1", ip: "198.18.1.11" });
  assert.deepEqual(written(moving.requests).applied, [{
    type: "IPv4",
    addresses: ["198.18.1.11"],
  }]);
  // Once the cache holds what was applied, nothing more is written.
  const applied = moving.requests.find((r) => r.method === "PATCH")!.body as EndpointSlice;
  const steady = recordingDeps({ endpointSlices: [applied], pods: [old, next] });
  await syncMasterEndpoints(steady.deps, redis, { pod: "redis-cache-1", ip: "198.18.1.11" });
  assert.deepEqual(steady.requests, []);
});

Deno.test("syncMasterEndpoints() replaces an IPv4 slice with an IPv6 one for an IPv6 master", async () => {
  const old = pod("redis-cache-0", "198.18.1.10");
  const six = pod("redis-cache-1", "fd00::11");
  const { deps, requests } = recordingDeps({ endpointSlices: [sliceFor(old)], pods: [old, six] });
  await syncMasterEndpoints(deps, redis, { pod: "redis-cache-1", ip: "fd00::11" });
  assert.deepEqual(written(requests), {
    applied: [{ type: "IPv6", addresses: ["fd00::11"] }],
    deleted: 1,
  });
});
