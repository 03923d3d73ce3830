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
  if (step.kind === "Add") {
    // Every instance accepts the new password before any uses it towards its master.
    await onEach("accept the new password", ({ node }) => node.acceptPassword(step.password));
    if (!failures.length) {
      await onEach(
        "use it towards the master",
        ({ node }) => node.useMasterPassword(step.password),
      );
    }
  } else {
    await onEach("drop the old password", async ({ node }) => {
      await node.useMasterPassword(step.password);
      await node.requireOnlyPassword(step.password);
    });
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
  return step.kind === "Add"
    ? {
      kind: "Stepped",
      reason: Reason.PasswordRotating,
      message: `Every instance accepts the new password; the old one is dropped next`,
    }
    : {
      kind: "Stepped",
      reason: Reason.PasswordRotated,
      message: `Password rotated on ${nodes.length} instances without a restart`,
    };
}
