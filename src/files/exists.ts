/**
 * Whether a path exists, for code that only needs to know (a missing binary,
 * a file made earlier).
 *
 * @module
 */

/** Does `path` exist (following links)? */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
