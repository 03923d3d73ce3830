import assert from "node:assert/strict";
import type { Service } from "kubernetes-types/core/v1.d.ts";
import { linkedServices, serviceLinkEnv } from "./service_links.ts";

const service = (name: string, namespace: string, clusterIP: string, ports = [{ port: 6379 }]) =>
  ({ metadata: { name, namespace }, spec: { clusterIP, ports } }) as Service;

Deno.test("serviceLinkEnv() writes the kubelet's variables for every port of a Service", () => {
  const env = serviceLinkEnv([
    service("redis-example-master", "default", "198.19.0.7", [
      { name: "redis", port: 6379, protocol: "TCP" } as never,
    ]),
  ]);
  assert.deepEqual(env, {
    REDIS_EXAMPLE_MASTER_SERVICE_HOST: "198.19.0.7",
    REDIS_EXAMPLE_MASTER_SERVICE_PORT: "6379",
    REDIS_EXAMPLE_MASTER_SERVICE_PORT_REDIS: "6379",
    REDIS_EXAMPLE_MASTER_PORT: "tcp://198.19.0.7:6379",
    REDIS_EXAMPLE_MASTER_PORT_6379_TCP: "tcp://198.19.0.7:6379",
    REDIS_EXAMPLE_MASTER_PORT_6379_TCP_PROTO: "tcp",
    REDIS_EXAMPLE_MASTER_PORT_6379_TCP_PORT: "6379",
    REDIS_EXAMPLE_MASTER_PORT_6379_TCP_ADDR: "198.19.0.7",
  });
});

Deno.test("serviceLinkEnv() skips headless Services and those without a ClusterIP", () => {
  assert.deepEqual(
    serviceLinkEnv([service("headless", "a", "None"), service("external", "a", "")]),
    {},
  );
});

Deno.test("linkedServices(): the namespace's Services unless enableServiceLinks is false; the API server's always", () => {
  const apiServer = service("kubernetes", "default", "198.19.0.1", [{ port: 443 }]);
  const own = [service("cache", "shop", "198.19.0.20")];
  const names = (services: Service[]) => services.map((s) => s.metadata?.name).sort();
  assert.deepEqual(
    names(linkedServices({ spec: { containers: [] } }, own, apiServer)),
    ["cache", "kubernetes"],
  );
  assert.deepEqual(
    names(linkedServices({ spec: { containers: [], enableServiceLinks: false } }, own, apiServer)),
    ["kubernetes"],
  );
  // The pod's own namespace may have a Service called kubernetes: it wins.
  const shadow = service("kubernetes", "shop", "198.19.0.30");
  assert.deepEqual(
    linkedServices({ spec: { containers: [] } }, [shadow], apiServer).map((s) => s.spec?.clusterIP),
    ["198.19.0.30"],
  );
});
