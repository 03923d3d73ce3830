/**
 * Writes of a pass whose failure is reported, not thrown.
 *
 * @module
 */
import { Reason } from "../api/conditions.ts";
import type { Problem } from "../decide/status.ts";
import { describeError } from "../text/describe_error.ts";

/**
 * Runs a write of the pass; one the API server refuses, or a request that
 * fails, becomes a problem: the rest of the pass (fencing, status) goes on.
 */
export async function tryApply(apply: () => Promise<unknown>): Promise<Problem[]> {
  try {
    await apply();
    return [];
  } catch (error) {
    return [{ reason: Reason.ApplyFailed, message: describeError(error) }];
  }
}
