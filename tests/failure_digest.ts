/**
 * A short account of failed tests for the end of `deno task test`: CI shows
 * only the last lines of a run, where `deno test` prints just the failed tests'
 * names. The assertion messages are in its ERRORS section, far above.
 *
 * @module
 */

// deno-lint-ignore no-control-regex
const ansiEscape = /\x1b\[[0-9;]*m/g;

/** Options bounding the digest's size. */
export interface DigestLimits {
  /** Message lines kept per failed test (after its name). */
  readonly linesPerFailure: number;
  /** Characters kept per line. */
  readonly lineLength: number;
  /** Failed tests described; the rest are counted. */
  readonly failures: number;
}

// Long lines: a timeout's message carries the state it timed out in (tests/e2e/operator.ts).
const defaultLimits: DigestLimits = { linesPerFailure: 4, lineLength: 1500, failures: 4 };

/**
 * From the output of `deno test`, each failed test's location and the first
 * lines of its error (without the stack). Empty when there is no ERRORS section.
 */
export function failureDigest(output: string, limits: DigestLimits = defaultLimits): string[] {
  const lines = output.replace(ansiEscape, "").split("\n");
  const start = lines.findIndex((l) => l.trim() === "ERRORS");
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.trim() === "FAILURES");
  const section = lines.slice(start + 1, end < 0 ? undefined : end);
  const blocks: string[][] = [];
  for (const line of section) {
    if (/ => \.?\/?\S+:\d+:\d+$/.test(line)) blocks.push([line]);
    else blocks.at(-1)?.push(line);
  }
  const clip = (l: string) =>
    l.length > limits.lineLength ? `${l.slice(0, limits.lineLength)}…` : l;
  const digest = blocks.slice(0, limits.failures).flatMap(([header, ...body]) => {
    const stackAt = body.findIndex((l) => /^\s+at /.test(l));
    const message = (stackAt < 0 ? body : body.slice(0, stackAt))
      .filter((l) => l.trim() !== "" && l.trim() !== "^");
    return [
      clip(header!),
      ...message.slice(0, limits.linesPerFailure).map((l) => `    ${clip(l)}`),
    ];
  });
  if (blocks.length > limits.failures) {
    digest.push(`(${blocks.length - limits.failures} more failed tests above)`);
  }
  return digest;
}
