import assert from "node:assert/strict";
import { podCutScript } from "./pod_cut.ts";

Deno.test("a pod cut drops both directions for exactly the peers named", () => {
  const script = podCutScript(["10.0.0.1", "10.0.0.2"]);
  assert.match(script, /ip saddr \{ 10\.0\.0\.1, 10\.0\.0\.2 \} drop/);
  assert.match(script, /ip daddr \{ 10\.0\.0\.1, 10\.0\.0\.2 \} drop/);
  // Replaced in one transaction: made if missing, then deleted and made again.
  assert.ok(script.startsWith("table inet rop_pod_cut\ndelete table inet rop_pod_cut\n"));
});

Deno.test("a pod cut refuses anything but IPv4 addresses, and an empty list", () => {
  assert.throws(() => podCutScript(["10.0.0.1; flush ruleset"]), /Not an IPv4 address/);
  assert.throws(() => podCutScript(["redis-a-0"]), /Not an IPv4 address/);
  assert.throws(() => podCutScript([]), /at least one peer/);
});
