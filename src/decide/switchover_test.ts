import assert from "node:assert/strict";
import type { Redis } from "../api/redis.ts";
import { switchoverAnnotation, switchoverRequested } from "./switchover.ts";

const redis = (annotation: string | undefined, epoch: number): Redis => ({
  apiVersion: "redis-operator.dev/v1alpha1",
  kind: "Redis",
  metadata: {
    name: "app",
    ...(annotation === undefined ? {} : { annotations: { [switchoverAnnotation]: annotation } }),
  },
  status: { epoch },
});

Deno.test("a switchover request applies to the epoch it names only", () => {
  assert.equal(switchoverRequested(redis("4", 4)), true);
  // Served: the handover moved the epoch on, so the same annotation asks nothing more.
  assert.equal(switchoverRequested(redis("4", 5)), false);
  assert.equal(switchoverRequested(redis(undefined, 4)), false);
  assert.equal(switchoverRequested(redis("now", 4)), false);
});
