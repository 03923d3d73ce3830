/**
 * Writes of a pass whose failure is reported, not thrown.
 *
 * @module
 */
import { Reason } from "../api/conditions.ts";
import type { Problem } from "../decide/status.ts";

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

/** An error's message, or the value as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
