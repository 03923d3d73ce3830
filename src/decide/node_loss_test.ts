import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import { nodeLossProblem, nodeTrouble } from "./node_loss.ts";

const pod = (name: string, nodeName?: string): Pod => ({
  metadata: { name },
  spec: { containers: [], ...(nodeName ? { nodeName } : {}) },
});
const node = (
  name: string,
  ready: "True" | "False" | "Unknown",
  taints: Array<{ key: string; effect: string }> = [],
): Node => ({
  metadata: { name },
  spec: { taints },
  status: {
    conditions: [{
      type: "Ready",
      status: ready,
      lastTransitionTime: "2026-11-27T10:00:00Z",
    }],
  },
});

Deno.test("nodeTrouble(): Ready Unknown is unreachable, False not ready, the out-of-service taint wins", () => {
  assert.equal(nodeTrouble(node("a", "True")), undefined);
  assert.deepEqual(nodeTrouble(node("a", "Unknown")), {
    kind: "Unreachable",
    since: "2026-11-27T10:00:00Z",
  });
  assert.equal(nodeTrouble(node("a", "False"))?.kind, "NotReady");
  assert.equal(
    nodeTrouble(node("a", "Unknown", [{
      key: "node.kubernetes.io/out-of-service",
      effect: "NoExecute",
    }]))?.kind,
    "OutOfService",
  );
});

Deno.test("nodeLossProblem() names each node in trouble, its pods and the out-of-service command", () => {
  const nodes = new Map([
    ["n1", node("n1", "True")],
    ["n2", node("n2", "Unknown")],
    ["n3", node("n3", "False")],
  ]);
  const problem = nodeLossProblem(
    [pod("r-0", "n1"), pod("r-2", "n2"), pod("r-1", "n2"), pod("r-3", "n3"), pod("r-4")],
    (name) => nodes.get(name),
  );
  assert.equal(problem?.reason, "NodeUnavailable");
  const [second, third] = problem!.message.split("; ");
  assert.match(second!, /^node n2 does not report \(Ready Unknown since 2026-11-27T10:00:00Z\)/);
  assert.match(second!, /pods r-1, r-2 cannot run/);
  assert.match(
    second!,
    /kubectl taint nodes n2 node\.kubernetes\.io\/out-of-service=nodeshutdown:NoExecute$/,
  );
  assert.match(third!, /^node n3 is NotReady \(Ready False/);
  assert.doesNotMatch(
    problem!.message,
    /n1|r-0|r-4/,
    "healthy nodes and unscheduled pods are left out",
  );
});

Deno.test("nodeLossProblem() is undefined when every pod's node is Ready or unknown to the cache", () => {
  const nodes = new Map([["n1", node("n1", "True")]]);
  assert.equal(
    nodeLossProblem([pod("r-0", "n1"), pod("r-1", "gone")], (name) => nodes.get(name)),
    undefined,
  );
});

Deno.test("nodeLossProblem() says when a node is out of service and its pods move", () => {
  const nodes = new Map([[
    "n2",
    node("n2", "Unknown", [{
      key: "node.kubernetes.io/out-of-service",
      effect: "NoExecute",
    }]),
  ]]);
  assert.match(
    nodeLossProblem([pod("r-1", "n2")], (name) => nodes.get(name))!.message,
    /^node n2 is marked out of service: pod r-1 is deleted there and recreated on another node$/,
  );
});
