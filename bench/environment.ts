/**
 * The machine and software a benchmark ran on, for the report.
 *
 * @module
 */

/** Runs a command and returns its first line of output, or "unknown". */
async function firstLine(command: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(out.stdout) || new TextDecoder().decode(out.stderr);
    return text.split("\n")[0]!.trim() || "unknown";
  } catch {
    return "unknown";
  }
}

/** CPU, memory, kernel, Deno, Redis and Kubernetes versions of this machine. */
export async function describeEnvironment(): Promise<Record<string, string>> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown";
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const memKb = Number(meminfo.match(/^MemTotal:\s*(\d+)/m)?.[1] ?? 0);
  const kube = await Array.fromAsync(
    Deno.readDir(`${Deno.env.get("HOME")}/.cache/redis-operator`),
  ).then((entries) => entries.map((e) => e.name).filter((n) => n.startsWith("kubernetes-")))
    .catch(() => []);
  return {
    CPU: `${navigator.hardwareConcurrency} × ${model}`,
    Memory: `${(memKb / 1024 / 1024).toFixed(1)} GiB`,
    Kernel: Deno.osRelease(),
    Deno: Deno.version.deno,
    "redis-server": await firstLine("redis-server", ["--version"]),
    // The loopback benchmarks run Sentinel as `redis-server --sentinel`: the same build.
    "redis-sentinel": "redis-server --sentinel (the same build)",
    "Kubernetes build (local cluster)": kube.join(", ") || "none cached",
  };
}
