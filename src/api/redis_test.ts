import assert from "node:assert/strict";
import { keepsDataOnVolumes } from "./redis.ts";

Deno.test("keepsDataOnVolumes() needs a data volume and AOF or RDB snapshots turned on", () => {
  const claim = { spec: { resources: { requests: { storage: "1Gi" } } } };
  const redis = (config?: Record<string, string>, volume = true) => ({
    spec: { ...(volume ? { dataVolumeClaimTemplate: claim } : {}), ...(config ? { config } : {}) },
  });
  assert.equal(keepsDataOnVolumes(redis()), false, "both are off by default");
  assert.equal(keepsDataOnVolumes(redis({ appendonly: "yes" })), true);
  assert.equal(keepsDataOnVolumes(redis({ appendonly: '"YES"' })), true);
  assert.equal(keepsDataOnVolumes(redis({ save: "900 1" })), true);
  assert.equal(keepsDataOnVolumes(redis({ save: '""', appendonly: "no" })), false);
  assert.equal(keepsDataOnVolumes(redis({ appendonly: "yes" }, false)), false, "no volume");
  // What the StatefulSet runs counts over a spec it could not take.
  assert.equal(keepsDataOnVolumes(redis({ appendonly: "yes" }), false), false, "live: none");
  assert.equal(keepsDataOnVolumes(redis({ appendonly: "yes" }, false), true), true, "live: one");
});
