/**
 * Runs a command to completion and returns its standard output; a failure
 * becomes an error that carries the command and what it printed.
 *
 * @example
 * ```ts ignore
 * const out = await run(["ip", "netns", "list"]);
 * ```
 */
export async function run(
  command: string[],
  options: { env?: Record<string, string>; stdin?: string; allowFailure?: boolean } = {},
): Promise<string> {
  const [program, ...args] = command;
  if (!program) throw new Error("Empty command");
  const child = new Deno.Command(program, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env } : {}),
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const stdout = new TextDecoder().decode(output.stdout);
  if (!output.success && !options.allowFailure) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`Command failed (exit ${output.code}): ${command.join(" ")}: ${stderr}`);
  }
  return stdout;
}
