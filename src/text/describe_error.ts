/**
 * The text of a thrown value, for messages that wrap it.
 *
 * @module
 */

/** An error's message, or the value as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
