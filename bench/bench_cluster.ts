/**
 * Runs one command inside a local cluster of the bench's own (`--name=bench`),
 * brought up before and down after, and reads what the command wrote to the
 * file `$BENCH_RESULTS` names.
 *
 * @module
 */

/** `command` (after `deno`) in the bench cluster; its results as JSON, or undefined. */
export async function onBenchCluster<T>(
  command: readonly string[],
  env: Record<string, string> = {},
): Promise<{ ok: boolean; results: T | undefined }> {
  const deno = Deno.execPath();
  const file = await Deno.makeTempFile({ prefix: "bench-", suffix: ".json" });
  const run = async (args: string[]) =>
    (await new Deno.Command(deno, {
      args,
      env: { ...env, BENCH_RESULTS: file },
      stdout: "inherit",
      stderr: "inherit",
    }).output()).success;
  const cli = ["run", "-A", "cluster/cli.ts"];
  try {
    if (!await run([...cli, "up", "--name=bench"])) return { ok: false, results: undefined };
    let ok = false;
    try {
      ok = await run([...cli, "exec", "--name=bench", "--", deno, ...command]);
      // What completed is read even when the command failed later (a larger N, an assert).
      const text = await Deno.readTextFile(file);
      return { ok, results: text ? JSON.parse(text) as T : undefined };
    } finally {
      // `down` removes the cluster's folder: a failed run's pod and control-plane logs are
      // kept first, so the failure can be read afterwards.
      if (!ok) await keepClusterLogs();
      await run([...cli, "down", "--name=bench"]);
    }
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

/** Copies the bench cluster's logs to /tmp/redis-operator-artifacts; best effort. */
async function keepClusterLogs(): Promise<void> {
  const logs = new URL("../.cluster/bench/logs", import.meta.url).pathname;
  const kept = `/tmp/redis-operator-artifacts/bench-logs-${Date.now()}`;
  // The artifacts folder may not exist yet on a fresh machine: cp -r would then fail.
  await Deno.mkdir("/tmp/redis-operator-artifacts", { recursive: true }).catch(() => {});
  const copied = await new Deno.Command("cp", { args: ["-r", logs, kept] }).output()
    .catch(() => undefined);
  console.log(
    copied?.success ? `bench cluster logs kept in ${kept}` : `bench cluster logs not kept`,
  );
}
