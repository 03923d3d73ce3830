/**
 * Helpers of the tests that run against the local cluster. They run inside the
 * cluster's network namespace (`deno task cluster exec -- deno test ...`),
 * never from the machine's own namespace, where the test range would leave
 * through the default route.
 *
 * @module
 */
import { delay } from "../../src/async/delay.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { loadClusterConfig } from "../../src/kube/config.ts";
import { clusterLayout } from "../../cluster/lib/layout.ts";
import { isInsideNetns } from "../../cluster/lib/netns.ts";

/** The cluster under test (set by `cluster exec`). */
export const layout = clusterLayout(Deno.env.get("ROP_CLUSTER") ?? "local");

/** Fails unless this process may send to pod addresses. */
export function assertInsideCluster(): void {
  if (!isInsideNetns(layout.netns)) {
    throw new Error(
      `Cluster tests must run inside network namespace ${layout.netns}: use \`deno task test\` or \`deno task cluster exec -- deno test -A tests/cluster\``,
    );
  }
}

/** A client for the local cluster. */
export async function clusterClient(): Promise<KubeClient> {
  assertInsideCluster();
  return new KubeClient(await loadClusterConfig());
}

/** Runs kubectl (on PATH inside `cluster exec`) and returns its exit code and output. */
export async function kubectlStatus(
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command("kubectl", {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs kubectl and returns stdout; throws with stderr on failure. */
export async function kubectl(args: string[], stdin?: string): Promise<string> {
  const { code, stdout, stderr } = await kubectlStatus(args, stdin);
  if (code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${stderr}`);
  return stdout;
}

/** Runs `deno task cluster fault ACTION NAMESPACE/POD`. */
export async function fault(action: string, namespace: string, pod: string): Promise<void> {
  await clusterFault(action, `${namespace}/${pod}`);
}

/**
 * Cuts the pod off `peers` (addresses) only, both ways (`fault cut`); `fault
 * heal` lifts it. Returns when the cut was in place, as the CLI reports it.
 */
export async function cutPod(namespace: string, pod: string, peers: string[]): Promise<number> {
  return cutTime(await clusterFault("cut", `${namespace}/${pod}`, peers.join(",")));
}

/**
 * Runs `deno task cluster fault ACTION NODE` (node-down, node-partition,
 * node-up). Returns when the node was cut off, as the CLI reports it (bounds
 * measured from the call would include the CLI's own start), or when it
 * returned for node-up.
 */
export async function nodeFault(
  action: "node-down" | "node-partition" | "node-up",
  node: string,
): Promise<number> {
  return cutTime(await clusterFault(action, node));
}

/** Runs `deno task cluster fault ACTION ZONE` (zone-down, zone-up): every node of the zone. */
export async function zoneFault(action: "zone-down" | "zone-up", zone: string): Promise<number> {
  return cutTime(await clusterFault(action, zone));
}

/** When the CLI says it cut the node(s) off; now for a fault that cuts nothing (node-up). */
function cutTime(output: string): number {
  const cutAt = output.match(/cut off \(at (\d+)\)/)?.[1];
  return cutAt ? Number(cutAt) : Date.now();
}

async function clusterFault(action: string, target: string, ...extra: string[]): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${layout.repoDir}/cluster/cli.ts`,
      "fault",
      action,
      target,
      ...extra,
      `--name=${layout.name}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`fault ${action} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return new TextDecoder().decode(output.stdout);
}

/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs` saying what was awaited. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await delay(250);
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}

/** Creates a namespace with a unique name; the returned function deletes it. */
export async function testNamespace(
  prefix: string,
): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${crypto.randomUUID().slice(0, 6)}`;
  await kubectl(["create", "namespace", name]);
  await waitFor(
    "the default ServiceAccount",
    async () =>
      (await kubectl([
        "-n",
        name,
        "get",
        "serviceaccount",
        "default",
        "-o",
        "name",
        "--ignore-not-found",
      ])).trim() || undefined,
  );
  return {
    name,
    remove: () => kubectl(["delete", "namespace", name, "--wait=false"]).then(() => {}),
  };
}

/** Sends one Redis command with redis-cli to `host` and returns the reply. */
export async function redisCli(host: string, ...command: string[]): Promise<string> {
  const output = await new Deno.Command("redis-cli", {
    args: ["-h", host, "-p", "6379", ...command],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(3000),
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  if (!output.success || text.startsWith("Could not connect")) {
    throw new Error(
      `redis-cli -h ${host} ${command.join(" ")} failed: ${text} ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
  return text;
}

/**
 * Runs `kubectl port-forward TARGET LOCAL:REMOTE` (in namespace `namespace`) while
 * `use` runs, and stops it afterwards. The local port is on the cluster namespace's
 * loopback.
 */
export async function withPortForward<T>(
  namespace: string,
  target: string,
  ports: string,
  use: () => Promise<T>,
): Promise<T> {
  const child = new Deno.Command("kubectl", {
    args: ["-n", namespace, "port-forward", target, ports],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const reader = child.stdout.getReader();
    let seen = "";
    const deadline = Date.now() + 30_000;
    while (!seen.includes("Forwarding from")) {
      if (Date.now() > deadline) throw new Error(`port-forward did not start: ${seen}`);
      const { value, done } = await reader.read();
      if (done) {
        const stderr = await new Response(child.stderr).text();
        throw new Error(`port-forward ended: ${seen}${stderr}`);
      }
      seen += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    return await use();
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* already ended */ }
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
  }
}
