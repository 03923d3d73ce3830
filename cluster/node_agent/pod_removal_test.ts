import assert from "node:assert/strict";
import { KubeApiError, type KubeClient } from "../../src/kube/client.ts";
import { removalRetryDelayMs, removalSettled, removePodObject } from "./pod_removal.ts";

const pod = { namespace: "ns", name: "redis-x-2", uid: "u-1" };

/** An API server that answers the agent's deletes from `answers`, in order. */
function answering(answers: Array<"ok" | Error>) {
  const requests: Array<{ method: string; path: string; body?: unknown }> = [];
  const client = {
    request(request: { method: string; path: string; body?: unknown }) {
      requests.push(request);
      const answer = answers.shift() ?? "ok";
      return answer === "ok" ? Promise.resolve({}) : Promise.reject(answer);
    },
  } as unknown as KubeClient;
  return { client, requests };
}

Deno.test("waits between deletes double from 0.5 s and stop growing at 10 s", () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7].map(removalRetryDelayMs),
    [500, 1000, 2000, 4000, 8000, 10_000, 10_000],
  );
});

Deno.test("a delete is settled by 404 and 409 only", () => {
  assert.equal(removalSettled(new KubeApiError("DELETE", "/p", 404, {})), true);
  assert.equal(removalSettled(new KubeApiError("DELETE", "/p", 409, {})), true);
  assert.equal(removalSettled(new KubeApiError("DELETE", "/p", 500, {})), false);
  assert.equal(removalSettled(new DOMException("timed out", "TimeoutError")), false);
});

Deno.test("a delete that timed out is sent again until the API server takes it", async () => {
  const { client, requests } = answering([
    new DOMException("Kubernetes API DELETE timed out after 10000 ms", "TimeoutError"),
    new KubeApiError("DELETE", "/p", 504, { message: "etcd request timed out" }),
    "ok",
  ]);
  const logged: string[] = [];
  await removePodObject(client, pod, (message) => logged.push(message));
  assert.equal(requests.length, 3);
  for (const request of requests) {
    assert.equal(request.method, "DELETE");
    assert.equal(request.path, "/api/v1/namespaces/ns/pods/redis-x-2");
    assert.deepEqual(
      (request.body as { preconditions: unknown }).preconditions,
      { uid: "u-1" },
      "only this pod, not a new one of the same name",
    );
  }
  assert.deepEqual(logged, ["pod delete failed, retrying", "pod deleted after retries"]);
});

Deno.test("a pod already gone, or replaced by a new one of its name, is not deleted again", async () => {
  for (const status of [404, 409]) {
    const { client, requests } = answering([new KubeApiError("DELETE", "/p", status, {})]);
    await removePodObject(client, pod, () => {});
    assert.equal(requests.length, 1, `after ${status}`);
  }
});

Deno.test("the agent stopping ends the retries", async () => {
  const stop = new AbortController();
  const { client, requests } = answering(
    Array.from({ length: 100 }, () => new KubeApiError("DELETE", "/p", 503, {})),
  );
  const removal = removePodObject(client, pod, () => {}, stop.signal);
  await new Promise((r) => setTimeout(r, 50));
  stop.abort();
  await removal;
  assert.equal(requests.length, 1);
});
