/**
 * FNV-1a, a short stable hash for change detection (not for secrecy). Pure.
 *
 * @module
 */

/** The 32-bit FNV-1a hash of `text`'s UTF-16 code units, as 8 hex digits; `seed` varies it. */
export function fnv1a(text: string, seed = 0x811c9dc5): string {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}
