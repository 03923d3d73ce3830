/**
 * Which instance answers a new connection to a ClusterIP, every few ms, seen
 * from inside an application pod: kube-proxy's rules are per node, so the
 * delay that matters is that of the node the application runs on.
 *
 * Run as a script (in the pod's network namespace) it prints `ms ip` for each
 * answer, `ip` being the answering instance's `replica-announce-ip`; imported,
 * {@linkcode ClusterIpProbe} starts it there and collects the answers.
 *
 * @module
 */
import { Redis } from "ioredis";
import { inNetnsWithResolvConf } from "../../cluster/lib/netns.ts";
import { type AppPod, eachLine } from "./app_writers.ts";

/** Probes `clusterIP` from inside `app` until stopped. */
export class ClusterIpProbe {
  /** When (ms since the epoch) which instance answered. */
  readonly answers: Array<[number, string]> = [];
  readonly #child: Deno.ChildProcess;
  readonly #reading: Promise<void>;

  constructor(app: AppPod, clusterIP: string) {
    this.#child = new Deno.Command("nsenter", {
      args: inNetnsWithResolvConf(app.netns, app.resolvConf, [
        Deno.execPath(),
        "run",
        "-A",
        "--cached-only",
        import.meta.filename!,
        clusterIP,
      ]),
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#reading = eachLine(this.#child.stdout, (line) => {
      const [at, ip] = line.split(" ");
      if (at && ip) this.answers.push([Number(at), ip]);
    });
  }

  /** Stops the probe. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already ended */ }
    await this.#child.status;
    await this.#reading;
  }
}

/** One new connection: which instance answered, if one did. */
async function probeOnce(clusterIP: string): Promise<string | undefined> {
  const redis = new Redis({
    host: clusterIP,
    lazyConnect: true,
    connectTimeout: 200,
    commandTimeout: 300,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    const [, ip] = await redis.call("CONFIG", "GET", "replica-announce-ip") as string[];
    return ip;
  } catch {
    return undefined; // refused or reset while the old master is gone
  } finally {
    redis.disconnect();
  }
}

if (import.meta.main) {
  const [clusterIP] = Deno.args;
  const out = new TextEncoder();
  while (true) {
    // A connect that never settles (seen once towards a cut-off address) must not stop it.
    const ip = await Promise.race([
      probeOnce(clusterIP!),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000)),
    ]);
    if (ip) await Deno.stdout.write(out.encode(`${Date.now()} ${ip}\n`));
    await new Promise((r) => setTimeout(r, 5));
  }
}
