import assert from "node:assert/strict";
import { OperatorMetrics } from "./metrics.ts";

Deno.test("countRequest() labels requests by method and resource, subresources included", () => {
  const metrics = new OperatorMetrics();
  metrics.countRequest("GET", "/api/v1/namespaces/a/pods");
  metrics.countRequest("PATCH", "/api/v1/namespaces/a/pods/redis-x-0");
  metrics.countRequest("PATCH", "/apis/redis-operator.dev/v1alpha1/namespaces/a/redis/x/status");
  metrics.countRequest("GET", "/apis/apps/v1/statefulsets");
  metrics.countRequest("GET", "/version");
  assert.equal(metrics.apiRequests.get({ method: "GET", resource: "pods" }), 1);
  assert.equal(metrics.apiRequests.get({ method: "PATCH", resource: "pods" }), 1);
  assert.equal(metrics.apiRequests.get({ method: "PATCH", resource: "redis/status" }), 1);
  assert.equal(metrics.apiRequests.get({ method: "GET", resource: "statefulsets" }), 1);
  assert.match(
    metrics.render(),
    /redis_operator_api_requests_total\{method="GET",resource="pods"\} 1/,
  );
});

Deno.test("render() writes a histogram with cumulative buckets", () => {
  const metrics = new OperatorMetrics();
  metrics.failoverSeconds.observe(0.2);
  metrics.failoverSeconds.observe(3);
  const text = metrics.render();
  assert.match(text, /redis_operator_failover_duration_seconds_bucket\{le="0.25"\} 1/);
  assert.match(text, /redis_operator_failover_duration_seconds_bucket\{le="5"\} 2/);
  assert.match(text, /redis_operator_failover_duration_seconds_count 2/);
});

Deno.test("per-Redis gauges go with their Redis, and all of them with leadership", () => {
  const metrics = new OperatorMetrics();
  const a = { namespace: "n", name: "a" };
  const b = { namespace: "n", name: "b" };
  metrics.connectedInstances.set(a, 3);
  metrics.replicationLag.set({ ...a, pod: "redis-a-1" }, 10);
  metrics.connectedInstances.set(b, 3);
  metrics.failovers.inc({ ...a, reason: "MasterLost" });
  metrics.forgetRedis(a);
  assert.equal(metrics.connectedInstances.get(a), 0);
  assert.doesNotMatch(metrics.render(), /redis-a-1/);
  assert.match(metrics.render(), /redis_operator_connected_instances\{namespace="n",name="b"\} 3/);
  assert.match(metrics.render(), /failovers_total\{namespace="n",name="a",reason="MasterLost"\} 1/);
  metrics.forgetRedis();
  assert.doesNotMatch(metrics.render(), /redis_operator_connected_instances\{/);
});

Deno.test("render() reports the process's memory", () => {
  const text = new OperatorMetrics().render();
  const rss = Number(text.match(/^redis_operator_memory_bytes\{kind="rss"\} (\d+)$/m)?.[1]);
  const heap = Number(text.match(/^redis_operator_memory_bytes\{kind="heap_used"\} (\d+)$/m)?.[1]);
  assert.ok(rss > heap && heap > 0, `rss ${rss}, heap used ${heap}`);
});
