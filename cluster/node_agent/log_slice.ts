/**
 * The part of a container log that `kubectl logs --tail N --limit-bytes M`
 * asks for. Pure.
 *
 * @module
 */

const newline = 0x0a;

/** The last `tailLines` lines of `content`, then at most `limitBytes` of them. */
export function logSlice(
  content: Uint8Array,
  limits: { tailLines?: number | undefined; limitBytes?: number | undefined },
): Uint8Array {
  let start = 0;
  const tail = limits.tailLines;
  if (tail === 0) start = content.length;
  else if (tail !== undefined) {
    // A final newline ends the last line; it does not start another.
    const end = content.at(-1) === newline ? content.length - 1 : content.length;
    let seen = 0;
    for (let i = end - 1; i >= 0; i--) {
      if (content[i] === newline && ++seen === tail) {
        start = i + 1;
        break;
      }
    }
  }
  const slice = content.subarray(start);
  return limits.limitBytes === undefined ? slice : slice.subarray(0, limits.limitBytes);
}
