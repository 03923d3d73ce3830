import assert from "node:assert/strict";
import { matchesDesired, parseQuantity } from "./drift.ts";

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

Deno.test("matchesDesired() compares resource quantities by value", () => {
  assert.equal(
    matchesDesired({ cpu: "0.1", memory: "1Gi" }, { cpu: "100m", memory: "1024Mi" }),
    true,
  );
  assert.equal(matchesDesired({ cpu: "0.2" }, { cpu: "100m" }), false);
  assert.equal(matchesDesired({ image: "redis:7" }, { image: "redis:7.0" }), false);
});

Deno.test("parseQuantity() reads decimal and binary suffixes", () => {
  assert.equal(parseQuantity("250m"), 0.25);
  assert.equal(parseQuantity("2Ki"), 2048);
  assert.equal(parseQuantity("1.5G"), 1.5e9);
  assert.equal(parseQuantity("redis"), undefined);
});
