/**
 * Carries out one step of a password rotation (decide/password.ts) on every
 * instance, then records it in the operator's Secret. A step is recorded only
 * once every pod has taken it, so a pod the step missed is never asked for a
 * password it does not have.
 *
 * @module
 */
import { Reason } from "../api/conditions.ts";
import type { Redis } from "../api/redis.ts";
import { type PasswordRotation, storedAfter } from "../decide/password.ts";
import type { Problem } from "../decide/status.ts";
import type { ReconcileDeps } from "./deps.ts";
import type { RedisNode } from "../redis/client.ts";
import type { ObservedInstance } from "./observe.ts";
import { writeOwnSecret } from "./sync_objects.ts";

/** What a rotation pass did: an Event to record, or a problem to report. */
export type RotationOutcome =
  | { readonly kind: "Idle" }
  | { readonly kind: "Waiting"; readonly message: string }
  | { readonly kind: "Stepped"; readonly reason: string; readonly message: string }
  | { readonly kind: "Failed"; readonly problem: Problem };

/** Takes `step` on every instance when all of them are reachable. */
export async function rotatePassword(
  deps: ReconcileDeps,
  redis: Redis,
  step: PasswordRotation,
  observed: readonly ObservedInstance[],
): Promise<RotationOutcome> {
  if (step.kind === "None") return { kind: "Idle" };
  const wanted = redis.spec?.replicas ?? 3;
  const missing = observed.filter((o) => !o.node).map((o) => o.observation.pod);
  if (missing.length || observed.length < wanted) {
    return {
      kind: "Waiting",
      message: `password rotation waits for every instance (not reachable: ${
        missing.join(", ") || "pods not created yet"
      })`,
    };
  }
  const nodes = observed.map((o) => ({ pod: o.observation.pod, node: o.node! }));
  const failures: string[] = [];
  const onEach = async (what: string, run: (n: (typeof nodes)[number]) => Promise<void>) => {
    await Promise.all(nodes.map((n) =>
      run(n).catch((error) => {
        failures.push(`${n.pod}: ${what}: ${error instanceof Error ? error.message : error}`);
      })
    ));
  };
  // Each phase runs on every instance before the next begins (see decide/password.ts).
  const phases: Array<[string, (node: RedisNode) => Promise<void>]> = [];
  const { password, previous } = step;
  if (redis.spec?.acl) {
    // Replicas authenticate as their own ACL user: only the default user's password changes.
    phases.push(
      step.kind === "Add" && previous !== "" && password !== ""
        ? ["accept the new password", (n) => n.acceptPassword(password)]
        : ["require only the new password", (n) => n.requireOnlyPassword(password)],
    );
  } else if (step.kind === "Add" && previous !== "" && password !== "") {
    phases.push(["accept the new password", (n) => n.acceptPassword(password)]);
    phases.push(["use it towards the master", (n) => n.useMasterPassword(password)]);
  } else if (step.kind === "Add" && password !== "") {
    phases.push([
      "use the new password towards the master as user default",
      (n) => n.useMasterPassword(password, true),
    ]);
    phases.push(["require the new password", (n) => n.requireOnlyPassword(password)]);
  } else if (step.kind === "Add") {
    phases.push([
      "authenticate to the master as user default",
      (n) => n.useMasterPassword(previous, true),
    ]);
    phases.push(["drop the password", (n) => n.requireOnlyPassword("")]);
  } else if (password !== "") {
    // Back to the single-argument AUTH, which a master without a password refuses.
    phases.push(["drop the old password", async (n) => {
      await n.useMasterPassword(password);
      await n.requireOnlyPassword(password);
    }]);
  } else {
    phases.push(["stop sending the old password", (n) => n.useMasterPassword("")]);
  }
  for (const [what, run] of phases) {
    if (!failures.length) await onEach(what, ({ node }) => run(node));
  }
  if (failures.length) {
    return {
      kind: "Failed",
      problem: {
        reason: Reason.RedisCommandFailed,
        // Sorted: the same failures make the same message, so the status is not rewritten.
        message: `Password rotation: Redis refused a command: ${failures.sort().join("; ")}`,
      },
    };
  }
  await writeOwnSecret(deps, redis, storedAfter(step));
  return { kind: "Stepped", ...describeStep(step, nodes.length) };
}

/** The Event of a step carried out on `count` instances. */
function describeStep(
  step: Exclude<PasswordRotation, { kind: "None" }>,
  count: number,
): { reason: string; message: string } {
  const change = step.previous === "" ? "added" : step.password === "" ? "removed" : "rotated";
  if (step.kind === "Finish") {
    return {
      reason: Reason.PasswordRotated,
      message: `Password ${change} on ${count} instances without a restart`,
    };
  }
  const message = change === "rotated"
    ? "Every instance accepts the new password; the old one is dropped next"
    : change === "added"
    ? "Every instance now requires the password; replicas authenticate with it"
    : "No instance requires a password any more; replicas stop sending it next";
  return { reason: Reason.PasswordRotating, message };
}
