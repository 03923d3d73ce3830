/**
 * `deno task test`: every test of the project, in the namespaces each needs.
 *
 *  0. `generated/` matches `deno task generate`; the client view's writers and the history
 *     tool are built (tests/clients/prepare.sh), and the Redis and Valkey builds
 *     (cluster/build/redis_versions.sh, cached);
 *  1. unit tests and real-redis tests, in the machine's own namespace (they use loopback only);
 *  2. the cluster lifecycle test, which brings a cluster of its own up and down;
 *  3. `cluster up --name test`, then the cluster, end-to-end and chaos tests
 *     (the operator deployed from deploy/; CHAOS_ROUNDS kill -9 rounds, 6 by
 *     default, as restart back-off grows with each kill) inside that cluster's
 *     network namespace, where pod addresses are reachable and nothing leaves;
 *  4. `cluster down --name test` (skip with `--keep`).
 *
 * Any further arguments are passed to every `deno test` (e.g. `--filter kill`).
 *
 * @module
 */
import { failureDigest } from "./failure_digest.ts";

const repo = new URL("..", import.meta.url).pathname;
const deno = Deno.execPath();
const keep = Deno.args.includes("--keep");
const extra = Deno.args.filter((a) => a !== "--keep");
const cluster = "test";

/** Copies a child's output to ours as it comes, and keeps it for the failure digest. */
async function tee(from: ReadableStream<Uint8Array>, to: typeof Deno.stdout, kept: string[]) {
  const decoder = new TextDecoder();
  for await (const chunk of from) {
    await writeAll(to, chunk);
    kept.push(decoder.decode(chunk, { stream: true }));
  }
}

async function writeAll(to: typeof Deno.stdout, bytes: Uint8Array) {
  for (let done = 0; done < bytes.length;) done += await to.write(bytes.subarray(done));
}

/** Failed tests' messages, per step, printed again at the very end. */
const digests: Array<[string, string[]]> = [];

async function step(title: string, args: string[]): Promise<boolean> {
  console.log(`\n=== ${title}`);
  const started = performance.now();
  const child = new Deno.Command(args[0]!, {
    args: args.slice(1),
    cwd: repo,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  await Promise.all([
    tee(child.stdout, Deno.stdout, output),
    tee(child.stderr, Deno.stderr, []),
  ]);
  const status = await child.status;
  if (!status.success) digests.push([title, failureDigest(output.join(""))]);
  console.log(
    `=== ${title}: ${status.success ? "passed" : "FAILED"} (${
      ((performance.now() - started) / 1000).toFixed(1)
    } s)`,
  );
  return status.success;
}

const cli = [deno, "run", "-A", "cluster/cli.ts"];
const results: Array<[string, boolean]> = [];
const run = async (title: string, args: string[]) => {
  const ok = await step(title, args);
  results.push([title, ok]);
  return ok;
};

await run("generated/ is up to date", [deno, "run", "-A", "tools/generate.ts", "--check"]);
// The client writers (go-redis, redis-py, Jedis), the history tool and the Prometheus
// Operator's CRDs, fetched outside any namespace (from the Go module proxy, PyPI, Maven
// Central); cached, so this is quick after the first time. Before the unit tests: the
// history tool's test runs it against a local redis-server.
await run("client writers, history tool and monitoring CRDs", ["bash", "tests/clients/prepare.sh"]);
// The Redis and Valkey versions of Debian's other releases (tests/chaos/versions_test.ts, and
// start.sh on Redis 6.0 among the real-redis tests): built from their source packages into a
// cache outside the repository (skipped when present; about 10 minutes the first time).
await run("Redis and Valkey builds", ["bash", "cluster/build/redis_versions.sh"]);
await run("unit and real-redis tests", [
  deno,
  "test",
  "-A",
  "--ignore=tests/cluster,tests/lifecycle,tests/e2e,tests/chaos",
  ...extra,
]);
// Two rounds of the loopback benchmarks and the report they write, so the bench cannot rot
// (its figures mean nothing at this size; no time is asserted).
await run("bench smoke run", [deno, "run", "-A", "bench/main.ts", "--smoke"]);
await run("cluster lifecycle test", [deno, "test", "-A", "tests/lifecycle/", ...extra]);
if (await run("cluster up", [...cli, "up", `--name=${cluster}`])) {
  await run("cluster, end-to-end and chaos tests", [
    ...cli,
    "exec",
    `--name=${cluster}`,
    "--",
    deno,
    "test",
    "-A",
    "tests/cluster/",
    "tests/e2e/",
    "tests/chaos/",
    ...extra,
  ]);
}
// `down` removes the cluster's folder: a failed run's pod and control-plane logs go where CI
// keeps artifacts first, so the failure can be read afterwards.
if (results.some(([, ok]) => !ok)) {
  const logs = `${new URL("..", import.meta.url).pathname}.cluster/${cluster}/logs`;
  const kept = `/tmp/redis-operator-artifacts/cluster-logs-${Date.now()}`;
  await step("keep the cluster's logs", [
    "sh",
    "-c",
    'mkdir -p "$(dirname "$1")" && cp -r "$0" "$1"',
    logs,
    kept,
  ]);
  console.log(`cluster logs kept in ${kept}`);
}
if (!keep) await step("cluster down", [...cli, "down", `--name=${cluster}`]);

console.log("\nSummary:");
for (const [title, ok] of results) console.log(`  ${ok ? "passed" : "FAILED"}  ${title}`);
for (const [title, digest] of digests.filter(([, d]) => d.length > 0)) {
  console.log(`\nFailed in "${title}":`);
  for (const line of digest) console.log(`  ${line}`);
}
Deno.exit(results.every(([, ok]) => ok) ? 0 : 1);
