import assert from "node:assert/strict";
import { appliedAnnotation, matchesDesired, parseQuantity, stampApplied } from "./drift.ts";

Deno.test("matchesDesired() ignores fields the server added", () => {
  const desired = { spec: { ports: [{ port: 6379, targetPort: "redis" }] } };
  const live = {
    metadata: { uid: "u" },
    spec: {
      clusterIP: "198.19.0.5",
      ports: [{ port: 6379, targetPort: "redis", protocol: "TCP" }],
    },
  };
  assert.equal(matchesDesired(desired, live), true);
});

Deno.test("matchesDesired() notices a changed, missing or extra-element field", () => {
  const desired = {
    spec: { replicas: 3, selector: { role: "master" }, containers: [{ name: "a" }] },
  };
  assert.equal(
    matchesDesired(desired, {
      spec: { replicas: 5, selector: { role: "master" }, containers: [{ name: "a" }] },
    }),
    false,
  );
  assert.equal(
    matchesDesired(desired, { spec: { replicas: 3, selector: {}, containers: [{ name: "a" }] } }),
    false,
  );
  assert.equal(
    matchesDesired(desired, {
      spec: {
        replicas: 3,
        selector: { role: "master" },
        containers: [{ name: "a" }, { name: "b" }],
      },
    }),
    false,
  );
  assert.equal(
    matchesDesired({ data: { master: "" } }, { data: {} }),
    false,
    "an empty string is still a value",
  );
});

Deno.test("matchesDesired() takes a zero the server leaves out for an absent field", () => {
  // The readiness probe of the default spec: omitempty drops initialDelaySeconds 0 (issue 8, item 11).
  const probe = {
    exec: { command: ["redis-cli", "ping"] },
    initialDelaySeconds: 0,
    periodSeconds: 2,
  };
  assert.equal(
    matchesDesired({ readinessProbe: probe }, {
      readinessProbe: { exec: { command: ["redis-cli", "ping"] }, periodSeconds: 2 },
    }),
    true,
  );
  assert.equal(
    matchesDesired(
      { hostNetwork: false, priorityClassName: "", tolerations: [], nodeSelector: {} },
      {},
    ),
    true,
    "false, an empty string, an empty list and an empty map are not stored",
  );
  assert.equal(
    matchesDesired({ type: "Opaque", data: {} }, { type: "Opaque" }),
    true,
    "a Secret without keys is stored without data",
  );
  assert.equal(
    matchesDesired({ addressType: "IPv4", endpoints: [] }, {
      addressType: "IPv4",
      endpoints: null,
    }),
    true,
    "a list without omitempty comes back null",
  );
  assert.equal(
    matchesDesired({ resources: { limits: {} } }, { resources: {} }),
    true,
    "an empty map of quantities is not stored",
  );
});

Deno.test("matchesDesired() still notices a zero that was replaced by another value", () => {
  assert.equal(
    matchesDesired({ readinessProbe: { initialDelaySeconds: 0 } }, {
      readinessProbe: { initialDelaySeconds: 5 },
    }),
    false,
  );
  assert.equal(matchesDesired({ tolerations: [] }, { tolerations: [{ key: "a" }] }), false);
  assert.equal(matchesDesired({ nodeSelector: {} }, { nodeSelector: {} }), true);
  assert.equal(matchesDesired({ hostNetwork: false }, { hostNetwork: true }), false);
});

Deno.test("matchesDesired() wants the zeros the server does store", () => {
  assert.equal(
    matchesDesired({ data: { master: "" } }, { data: { other: "x" } }),
    false,
    "a map entry is stored whatever its value",
  );
  assert.equal(
    matchesDesired({ command: ["sh", ""] }, { command: ["sh"] }),
    false,
    "so is a list item",
  );
  assert.equal(
    matchesDesired({ securityContext: { runAsUser: 0 } }, { securityContext: {} }),
    false,
    "runAsUser is a pointer: 0 (root) is stored, and its absence means the image's user",
  );
  assert.equal(
    matchesDesired({ securityContext: { runAsUser: 0 } }, { securityContext: { runAsUser: 0 } }),
    true,
  );
  assert.equal(matchesDesired({ spec: { replicas: 0 } }, { spec: {} }), false);
  assert.equal(
    matchesDesired({ volumes: [{ name: "data", emptyDir: {} }] }, {
      volumes: [{ name: "data", hostPath: { path: "/srv" } }],
    }),
    false,
    "an empty struct behind a pointer is stored, and says which kind of volume this is",
  );
  assert.equal(
    matchesDesired({ spec: { selector: { redis: "cache", tier: "" } } }, {
      spec: { selector: { redis: "cache" } },
    }),
    false,
    "a Service's selector is a map",
  );
  assert.equal(
    matchesDesired({ spec: { selector: { matchLabels: { redis: "cache" } } } }, {
      spec: { selector: { matchLabels: { redis: "cache" } } },
    }),
    true,
  );
});

Deno.test("matchesDesired() compares resource quantities by value, numbers too", () => {
  assert.equal(
    matchesDesired({ limits: { cpu: "0.1", memory: "1Gi" } }, {
      limits: { cpu: "100m", memory: "1024Mi" },
    }),
    true,
  );
  assert.equal(
    matchesDesired(
      { requests: { cpu: 0.5, memory: 134217728 } },
      { requests: { cpu: "500m", memory: "128Mi" } },
    ),
    true,
    "a number in spec.redis.resources is stored as a quantity string",
  );
  assert.equal(
    matchesDesired({ emptyDir: { sizeLimit: "1e3" } }, { emptyDir: { sizeLimit: "1k" } }),
    true,
  );
  assert.equal(matchesDesired({ limits: { cpu: "0.2" } }, { limits: { cpu: "100m" } }), false);
  assert.equal(matchesDesired({ image: "redis:7" }, { image: "redis:7.0" }), false);
  assert.equal(
    matchesDesired({ data: { "min-lag": "1" } }, { data: { "min-lag": "1.0" } }),
    false,
    "strings elsewhere are compared as they are",
  );
});

Deno.test("parseQuantity() reads decimal and binary suffixes and exponents", () => {
  assert.equal(parseQuantity("250m"), 0.25);
  assert.equal(parseQuantity("2Ki"), 2048);
  assert.equal(parseQuantity("1.5G"), 1.5e9);
  assert.equal(parseQuantity("1e3"), 1000);
  assert.equal(parseQuantity("1E"), 1e18);
  assert.equal(parseQuantity(".5"), 0.5);
  assert.equal(parseQuantity("100n"), 1e-7);
  assert.equal(parseQuantity("redis"), undefined);
});

Deno.test("stampApplied(): a field the operator stops setting is drift; the same object is not", () => {
  const annotations: Record<string, string> = { a: "b" };
  const withResources = {
    metadata: { name: "s", annotations },
    spec: {
      template: {
        spec: { containers: [{ name: "redis", resources: { requests: { cpu: "1" } } }] },
      },
    },
  };
  const without = {
    metadata: { name: "s", annotations: { a: "b" } },
    spec: { template: { spec: { containers: [{ name: "redis" }] } } },
  };
  const live = stampApplied(withResources);
  assert.ok(matchesDesired(without, live), "without the stamp, a removed field is no drift");
  assert.ok(!matchesDesired(stampApplied(without), live));
  assert.ok(matchesDesired(stampApplied(withResources), live));
  assert.equal(live.metadata.annotations.a, "b", "other annotations stay");
  assert.match(live.metadata.annotations[appliedAnnotation]!, /^[0-9a-f]{16}$/);
});
