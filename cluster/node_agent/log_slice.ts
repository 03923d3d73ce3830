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

/** Lines and bytes of a log a kubelet keeps as the termination message (FallbackToLogsOnError). */
const terminationMessageLimits = { tailLines: 80, limitBytes: 2048 } as const;

/**
 * The termination message of a container that exited: with
 * `terminationMessagePolicy: FallbackToLogsOnError` and a non-zero exit, the
 * end of its log, as a kubelet keeps it (the last 80 lines, at most 2048
 * bytes of them); otherwise none. (The agent has no termination message file:
 * that file would win when it is not empty.)
 */
export function terminationMessage(
  log: Uint8Array,
  policy: string | undefined,
  exitCode: number,
): string | undefined {
  if (policy !== "FallbackToLogsOnError" || exitCode === 0) return undefined;
  const text = new TextDecoder().decode(logSlice(log, terminationMessageLimits));
  return text === "" ? undefined : text;
}
