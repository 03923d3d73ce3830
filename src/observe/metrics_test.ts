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
