import assert from "node:assert/strict";
import {
  belongsToCluster,
  clusterLayout,
  clusterNodes,
  network,
  nodeLayout,
  topologyProblem,
} from "./layout.ts";

Deno.test("clusterLayout() derives every name from the cluster name", () => {
  const layout = clusterLayout("demo");
  assert.equal(layout.netns, "rop-demo");
  assert.ok(layout.stateDir.endsWith("/.cluster/demo"));
  assert.equal(layout.apiServerUrl, `https://${network.controlPlaneIP}:6443`);
});

Deno.test("clusterLayout() refuses names that would not make valid namespace names", () => {
  assert.throws(() => clusterLayout("Bad_Name"), /Invalid cluster name/);
  assert.throws(() => clusterLayout("a-very-long-cluster-name-indeed"), /Invalid cluster name/);
});

Deno.test("nodeLayout(): each node has its own names, address, pod range and zone", () => {
  const layout = clusterLayout("demo");
  const nodes = clusterNodes(layout, { nodes: 4, zones: 3 });
  assert.deepEqual(nodes.map((n) => n.name), [
    "demo-node-1",
    "demo-node-2",
    "demo-node-3",
    "demo-node-4",
  ]);
  assert.deepEqual(nodes.map((n) => n.zone), ["zone-a", "zone-b", "zone-c", "zone-a"]);
  const second = nodes[1]!;
  assert.equal(second.netns, "rop-demo.n2");
  assert.ok(second.podNetnsPrefix.startsWith(`${second.netns}.`));
  assert.equal(second.ip, "198.18.0.12");
  assert.equal(second.podCIDR, "198.18.32.0/20");
  assert.equal(second.podGateway, "198.18.32.1");
  assert.ok(second.uplink.length <= 15, "an interface name has at most 15 characters");
  assert.equal(new Set(nodes.map((n) => n.podsDir)).size, 4);
  assert.throws(() => nodeLayout(layout, network.maxNodes + 1, 1), /Invalid node index/);
});

Deno.test("belongsToCluster() finds a cluster's namespaces, not another cluster's with a longer name", () => {
  const layout = clusterLayout("a");
  const node = nodeLayout(layout, 1, 1);
  assert.ok(belongsToCluster(layout, "rop-a"));
  assert.ok(belongsToCluster(layout, node.netns));
  assert.ok(belongsToCluster(layout, `${node.podNetnsPrefix}0123456789ab`));
  assert.ok(!belongsToCluster(layout, "rop-a-b"));
  assert.ok(!belongsToCluster(layout, nodeLayout(clusterLayout("a-b"), 1, 1).netns));
});

Deno.test("topologyProblem() accepts 1 to 15 nodes over at most as many zones", () => {
  assert.equal(topologyProblem({ nodes: 3, zones: 3 }), undefined);
  assert.equal(topologyProblem({ nodes: 1, zones: 1 }), undefined);
  assert.match(topologyProblem({ nodes: 0, zones: 1 })!, /--nodes/);
  assert.match(topologyProblem({ nodes: 16, zones: 1 })!, /--nodes/);
  assert.match(topologyProblem({ nodes: 2.5, zones: 1 })!, /--nodes/);
  assert.match(topologyProblem({ nodes: 2, zones: 3 })!, /--zones/);
});

Deno.test("every address of the local cluster lies in the benchmarking range 198.18.0.0/15", () => {
  const nodes = clusterNodes(clusterLayout("demo"), { nodes: network.maxNodes, zones: 1 });
  const addresses = [
    network.controlPlaneIP,
    network.serviceRange.split("/")[0]!,
    network.dnsClusterIP,
    ...nodes.flatMap((n) => [n.ip, n.podGateway, n.podRangeStart, n.podCIDR.split("/")[0]!]),
  ];
  for (const address of addresses) {
    const [a, b, c, d] = address.split(".").map(Number);
    assert.ok(a === 198 && (b === 18 || b === 19), address);
    assert.ok([c, d].every((o) => o! >= 0 && o! <= 255), address);
  }
});
