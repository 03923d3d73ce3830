import assert from "node:assert/strict";
import { clusterLayout, network } from "./layout.ts";

Deno.test("clusterLayout() derives every name from the cluster name", () => {
  const layout = clusterLayout("demo");
  assert.equal(layout.netns, "rop-demo");
  assert.ok(layout.podNetnsPrefix.startsWith(layout.netns));
  assert.equal(layout.nodeName, "demo-node");
  assert.ok(layout.stateDir.endsWith("/.cluster/demo"));
  assert.equal(layout.apiServerUrl, `https://${network.gateway}:6443`);
});

Deno.test("clusterLayout() refuses names that would not make valid namespace names", () => {
  assert.throws(() => clusterLayout("Bad_Name"), /Invalid cluster name/);
  assert.throws(() => clusterLayout("a-very-long-cluster-name-indeed"), /Invalid cluster name/);
});

Deno.test("every address of the local cluster lies in the benchmarking range 198.18.0.0/15", () => {
  for (
    const address of [network.gateway, network.podRangeStart, network.serviceRange.split("/")[0]!]
  ) {
    const [a, b] = address.split(".").map(Number);
    assert.ok(a === 198 && (b === 18 || b === 19), address);
  }
});
