import assert from "node:assert/strict";
import { KubeApiError, unlessNotFound } from "./client.ts";

Deno.test("unlessNotFound() turns a 404 into undefined and passes every other error on", async () => {
  assert.equal(await unlessNotFound(Promise.resolve("found")), "found");
  const missing = new KubeApiError("GET", "/api/v1/x", 404, { reason: "NotFound" });
  assert.equal(await unlessNotFound(Promise.reject(missing)), undefined);
  const forbidden = new KubeApiError("GET", "/api/v1/x", 403, { reason: "Forbidden" });
  await assert.rejects(unlessNotFound(Promise.reject(forbidden)), forbidden);
});
