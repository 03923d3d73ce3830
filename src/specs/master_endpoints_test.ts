import assert from "node:assert/strict";
import type { Redis } from "../api/redis.ts";
import { buildServices } from "./services.ts";
import {
  buildMasterEndpointSlice,
  foreignMasterSlices,
  serviceNameLabel,
  sliceManager,
  sliceManagerLabel,
} from "./master_endpoints.ts";

const redis: Redis = { metadata: { name: "cache", namespace: "prod", uid: "u" } };
const pod = {
  metadata: { name: "redis-cache-1", namespace: "prod", uid: "p1" },
  spec: { nodeName: "node-a", containers: [] },
};

Deno.test("buildMasterEndpointSlice() names the master pod as the only ready endpoint", () => {
  const slice = buildMasterEndpointSlice(redis, { pod, ip: "198.18.1.7" });
  assert.equal(slice.metadata?.labels?.[serviceNameLabel], "redis-cache-master");
  assert.equal(slice.metadata?.labels?.[sliceManagerLabel], sliceManager);
  assert.equal(slice.metadata?.ownerReferences?.[0]?.uid, "u");
  assert.deepEqual(slice.endpoints, [{
    addresses: ["198.18.1.7"],
    conditions: { ready: true, serving: true, terminating: false },
    targetRef: { kind: "Pod", namespace: "prod", name: "redis-cache-1", uid: "p1" },
    nodeName: "node-a",
  }]);
  assert.deepEqual(slice.ports, [{ name: "redis", port: 6379, protocol: "TCP" }]);
});

Deno.test("buildMasterEndpointSlice() without a master lists no endpoint", () => {
  assert.deepEqual(buildMasterEndpointSlice(redis, undefined).endpoints, []);
});

Deno.test("the master Service has no selector; the others select the Redis' pods", () => {
  const [all, headless, master, replica] = buildServices(redis);
  assert.equal(master?.spec?.selector, undefined);
  assert.equal(all?.spec?.selector?.redis, "cache");
  assert.equal(headless?.spec?.selector?.redis, "cache");
  assert.equal(replica?.spec?.selector?.role, "replica");
});

Deno.test("foreignMasterSlices() picks the master Service's slices another controller wrote", () => {
  const slice = (name: string, service: string, manager: string) => ({
    metadata: { name, labels: { [serviceNameLabel]: service, [sliceManagerLabel]: manager } },
    addressType: "IPv4",
    endpoints: [],
  });
  const ours = slice("redis-cache-master", "redis-cache-master", sliceManager);
  const stale = slice(
    "redis-cache-master-x7k2p",
    "redis-cache-master",
    "endpointslice-controller.k8s.io",
  );
  const replicas = slice(
    "redis-cache-replica-abcde",
    "redis-cache-replica",
    "endpointslice-controller.k8s.io",
  );
  assert.deepEqual(foreignMasterSlices(redis, [ours, stale, replicas]), [stale]);
});

Deno.test("buildMasterEndpointSlice() follows the address family of the master (item 7)", () => {
  assert.equal(buildMasterEndpointSlice(redis, { pod, ip: "fd00::7" }).addressType, "IPv6");
  assert.equal(buildMasterEndpointSlice(redis, { pod, ip: "198.18.1.7" }).addressType, "IPv4");
  const empty = buildMasterEndpointSlice(redis, undefined, "IPv6");
  assert.equal(empty.addressType, "IPv6");
  assert.deepEqual(empty.endpoints, []);
});
