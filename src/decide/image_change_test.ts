import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import { keepReplicableImage, redisImageVersion } from "./image_change.ts";

const set = (image: string): StatefulSet => ({
  spec: {
    selector: {},
    serviceName: "s",
    template: {
      spec: {
        containers: [{ name: "redis", image }, { name: "exporter", image: "redis_exporter:1" }],
      },
    },
  },
});
const images = (s: StatefulSet) => s.spec!.template.spec!.containers.map((c) => c.image);

Deno.test("keepReplicableImage() keeps a Redis 7.4+ image that was to become Valkey, and says why", () => {
  for (
    const live of ["redis:8.0", "redis:8", "docker.io/library/redis:7.4.2-alpine", "redis:8.0.6"]
  ) {
    const decision = keepReplicableImage(set("valkey/valkey:9"), set(live));
    assert.deepEqual(images(decision.statefulSet), [live, "redis_exporter:1"], live);
    assert.match(decision.refused ?? "", /RDB format 12/);
  }
});

Deno.test("keepReplicableImage() lets every other change through", () => {
  const through = [
    ["redis:7.0", "valkey/valkey:8"], // tested: Valkey 8.1 copies Redis 7.0
    ["redis:6.0", "redis:8.0"],
    ["redis:8.0", "redis:8.0.2"],
    ["valkey/valkey:8", "valkey/valkey:9"],
    ["valkey/valkey:9", "redis:8.0"],
    ["redis:latest", "valkey/valkey:9"], // no version to judge by
    ["redis:7", "valkey/valkey:9"],
  ];
  for (const [live, wanted] of through) {
    const decision = keepReplicableImage(set(wanted!), set(live!));
    assert.equal(decision.refused, undefined, `${live} -> ${wanted}`);
    assert.deepEqual(images(decision.statefulSet), [wanted, "redis_exporter:1"]);
  }
  assert.equal(keepReplicableImage(set("valkey/valkey:9"), undefined).refused, undefined, "new");
});

Deno.test("redisImageVersion() reads kind and version from the tag", () => {
  assert.deepEqual(redisImageVersion("registry:5000/valkey/valkey:8.1@sha256:0"), {
    flavor: "valkey",
    major: 8,
    minor: 1,
  });
  assert.deepEqual(redisImageVersion("redis:8-alpine"), { flavor: "redis", major: 8 });
  assert.deepEqual(redisImageVersion("redis"), { flavor: "redis" });
});
