import assert from "node:assert/strict";
import { hostPort } from "./host_port.ts";

Deno.test("hostPort() brackets IPv6 literals", () => {
  assert.equal(hostPort("10.0.0.1", 443), "10.0.0.1:443");
  assert.equal(hostPort("fd00::1", "6443"), "[fd00::1]:6443");
});
