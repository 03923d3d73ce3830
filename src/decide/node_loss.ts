/**
 * Pods on nodes that are gone or unreachable. The operator fails over from a
 * lost node's master on its own (decide/replication.ts); what it cannot do is
 * bring the pod back: a StatefulSet pod on an unreachable node stays
 * Terminating until the node returns, is deleted, or is marked out of service
 * (Kubernetes' non-graceful node shutdown). This says so, with the command.
 *
 * The operator never marks a node out of service itself: the taint asserts the
 * node's processes are stopped, and a partitioned node's are not. Only the
 * person or the infrastructure that powered it off can say that.
 *
 * Pure.
 *
 * @module
 */
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import { Reason } from "../api/conditions.ts";
import type { Problem } from "./status.ts";

/** The taint of Kubernetes' non-graceful node shutdown. */
export const outOfServiceTaint = "node.kubernetes.io/out-of-service";

/** How a node fails its pods, when it does. */
export type NodeTrouble =
  | { readonly kind: "Unreachable"; readonly since?: string }
  | { readonly kind: "NotReady"; readonly since?: string }
  | { readonly kind: "OutOfService" };

/** Why a node cannot run its pods now; undefined for a Ready node. */
export function nodeTrouble(node: Node): NodeTrouble | undefined {
  if (node.spec?.taints?.some((t) => t.key === outOfServiceTaint)) return { kind: "OutOfService" };
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  if (!ready || ready.status === "True") return undefined;
  const since = ready.lastTransitionTime ? { since: ready.lastTransitionTime } : {};
  return ready.status === "Unknown"
    ? { kind: "Unreachable", ...since }
    : { kind: "NotReady", ...since };
}

/**
 * One problem naming every node in trouble and the Redis pods on it, with what
 * to do; undefined when all of them run on healthy nodes. `nodes` finds a Node
 * by name (from the cache); a pod whose Node is not known is left out.
 */
export function nodeLossProblem(
  pods: readonly Pod[],
  nodes: (name: string) => Node | undefined,
): Problem | undefined {
  const byNode = new Map<string, { trouble: NodeTrouble; pods: string[] }>();
  for (const pod of pods) {
    const nodeName = pod.spec?.nodeName;
    const node = nodeName ? nodes(nodeName) : undefined;
    const trouble = node ? nodeTrouble(node) : undefined;
    if (!nodeName || !trouble) continue;
    const entry = byNode.get(nodeName) ?? { trouble, pods: [] };
    entry.pods.push(pod.metadata?.name ?? "");
    byNode.set(nodeName, entry);
  }
  if (byNode.size === 0) return undefined;
  const messages = [...byNode.entries()].sort(([a], [b]) => a.localeCompare(b)).map(
    ([node, { trouble, pods }]) => describe(node, trouble, pods.sort()),
  );
  return { reason: Reason.NodeUnavailable, message: messages.join("; ") };
}

function describe(node: string, trouble: NodeTrouble, pods: readonly string[]): string {
  const which = `${pods.length === 1 ? "pod" : "pods"} ${pods.join(", ")}`;
  if (trouble.kind === "OutOfService") {
    return `node ${node} is marked out of service: ${which} ${
      pods.length === 1 ? "is" : "are"
    } deleted there and recreated on another node`;
  }
  const state = trouble.kind === "Unreachable"
    ? "does not report (Ready Unknown"
    : "is NotReady (Ready False";
  const since = "since" in trouble && trouble.since ? ` since ${trouble.since})` : ")";
  return `node ${node} ${state}${since}: ${which} cannot run and the Redis runs without ${
    pods.length === 1 ? "it" : "them"
  }. Wait for the node to return or, if it is shut down for good, mark it out of service so ${
    pods.length === 1 ? "the pod is" : "the pods are"
  } recreated elsewhere: kubectl taint nodes ${node} ${outOfServiceTaint}=nodeshutdown:NoExecute`;
}
