import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import { keepClaimTemplates } from "./claim_templates.ts";

const withStorage = (storage: string | undefined, image = "redis:7.0"): StatefulSet => ({
  spec: {
    selector: {},
    serviceName: "s",
    template: { spec: { containers: [{ name: "redis", image }] } },
    ...(storage
      ? {
        volumeClaimTemplates: [{
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage } } },
        }],
      }
      : {}),
  },
});

Deno.test("keepClaimTemplates() keeps the live claims when the storage grows, and says why", () => {
  const live = withStorage("1Gi");
  // The server adds fields of its own to what it stores.
  live.spec!.volumeClaimTemplates![0]!.spec!.volumeMode = "Filesystem";
  const { statefulSet, refused } = keepClaimTemplates(withStorage("2Gi", "redis:7.2"), live);
  assert.deepEqual(statefulSet.spec?.volumeClaimTemplates, live.spec?.volumeClaimTemplates);
  assert.equal(statefulSet.spec?.template.spec?.containers[0]?.image, "redis:7.2");
  assert.match(refused ?? "", /asks for 2Gi instead of 1Gi/);
});

Deno.test("keepClaimTemplates() changes nothing when the claims are as stored, or there is no StatefulSet", () => {
  const live = withStorage("1Gi");
  live.spec!.volumeClaimTemplates![0]!.spec!.volumeMode = "Filesystem";
  assert.equal(keepClaimTemplates(withStorage("1Gi"), live).refused, undefined);
  assert.equal(
    keepClaimTemplates(withStorage(undefined), withStorage(undefined)).refused,
    undefined,
  );
  assert.equal(keepClaimTemplates(withStorage("2Gi"), undefined).refused, undefined);
});

Deno.test("keepClaimTemplates() refuses adding a claim template to a running Redis", () => {
  const { statefulSet, refused } = keepClaimTemplates(withStorage("1Gi"), withStorage(undefined));
  assert.equal(statefulSet.spec?.volumeClaimTemplates, undefined);
  assert.deepEqual(statefulSet.spec?.template.spec?.volumes, [{ name: "data", emptyDir: {} }]);
  assert.match(refused ?? "", /was added/);
});
