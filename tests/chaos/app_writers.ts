/**
 * Client libraries writing from inside a pod, as applications do: each runs in
 * an application pod's network namespace with the pod's resolv.conf, so it
 * reaches Redis through cluster DNS and its node's kube-proxy, and prints
 * every write it tried (tests/clients/client_report.ts).
 *
 * The writers are built by tests/clients/prepare.sh (`deno task test` runs it).
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { recordedNodes } from "../../cluster/lib/layout.ts";
import { inNetnsWithResolvConf } from "../../cluster/lib/netns.ts";
import { podDirName, readPodRecord } from "../../cluster/node_agent/pod_record.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { parseWriterOutput, type WriteEvent } from "../clients/client_report.ts";
import { kubectl, layout, waitFor } from "../cluster/helpers.ts";

/** Each library with its defaults, and ioredis once more with the one setting the README suggests. */
export const libraries = [
  "ioredis",
  "redis-py",
  "go-redis",
  "ioredis+reconnectOnError",
  "redis-py+retryOnError",
] as const;
/** One of {@linkcode libraries}, or Jedis (a JVM per writer: only where a test asks for it). */
export type Library = typeof libraries[number] | "jedis";

/** Paths of the writers prepare.sh built. */
export async function writerPaths(): Promise<Record<string, string>> {
  const cache = Deno.env.get("REDIS_OPERATOR_CACHE") ??
    `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/redis-operator`;
  const text = await Deno.readTextFile(`${cache}/clients/current.env`).catch(() => {
    throw new Error("the client writers are not built: run tests/clients/prepare.sh");
  });
  return Object.fromEntries(
    text.trim().split("\n").map((line) => line.split("=") as [string, string]),
  );
}

/** A writer running in the client pod's network namespace, with the pod's resolv.conf. */
export class AppWriter {
  readonly #child: Deno.ChildProcess;
  readonly #reading: Promise<void>;
  readonly #errors: Promise<string>;
  /** What it has printed so far, parsed. */
  readonly events: WriteEvent[] = [];

  constructor(netns: string, resolvConf: string, command: string[], env: Record<string, string>) {
    this.#child = new Deno.Command("nsenter", {
      args: inNetnsWithResolvConf(netns, resolvConf, command),
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#errors = new Response(this.#child.stderr).text();
    this.#reading = eachLine(this.#child.stdout, (line) => {
      this.events.push(...parseWriterOutput(line));
    });
  }

  /** Whether a write was acknowledged after `at`. */
  wroteAfter(at: number): boolean {
    return this.events.some((e) => e.ok && e.at > at);
  }

  /** What the writer printed on stderr (a library's own warnings, or why it could not start). */
  stderr(): Promise<string> {
    return this.#errors;
  }

  async stop(): Promise<WriteEvent[]> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already ended */ }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* ended */ }
    }, 10_000);
    await this.#child.status;
    clearTimeout(timer);
    await this.#reading;
    return this.events;
  }
}

/** Calls `onLine` with each line of `stream` as it comes, the last one unterminated too. */
export async function eachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    for (const line of lines) onLine(line);
  }
  if (pending) onLine(pending);
}

/** Where an application pod's processes run: its network namespace and resolv.conf. */
export interface AppPod {
  readonly netns: string;
  readonly resolvConf: string;
}

/**
 * Creates pod `name` (an idle redis:7.0 container) in `namespace`, on `nodeName`
 * when given, and returns where its processes run once it is Running.
 */
export async function startAppPod(
  client: KubeClient,
  namespace: string,
  name: string,
  nodeName?: string,
): Promise<AppPod> {
  await kubectl(
    ["-n", namespace, "apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: {
        containers: [{ name: "app", image: "redis:7.0", command: ["sleep", "infinity"] }],
        ...(nodeName ? { nodeName } : {}),
      },
    }),
  );
  const pod = await waitFor(`the application pod ${name}`, async () => {
    const pod = await client.request<Pod>({
      path: `/api/v1/namespaces/${namespace}/pods/${name}`,
    });
    return pod.status?.phase === "Running" ? pod : undefined;
  });
  const podsDir = recordedNodes(layout).find((node) => node.name === pod.spec!.nodeName)!
    .podsDir;
  const record = (await readPodRecord(podsDir, namespace, name))!;
  return {
    netns: record.netns,
    resolvConf: `${podsDir}/${podDirName(namespace, name, pod.metadata!.uid!)}/resolv.conf`,
  };
}

/** Where writers find their master: a Service name, or a Sentinel and a master name. */
export type WriterTarget =
  | { readonly service: string }
  | { readonly sentinel: string; readonly port: number; readonly masterName: string };

/**
 * Starts one writer per library in `app`, each writing to `service`:6379, or
 * through the Sentinel `target` names (keys are prefixed with `prefix` + the library).
 */
export function startWriters<L extends Library>(
  app: AppPod,
  service: string | WriterTarget,
  which: readonly L[],
  paths: Record<string, string>,
  prefix = "",
): Record<L, AppWriter> {
  const target = typeof service === "string" ? { service } : service;
  const [host, port, setting] = "service" in target
    ? [target.service, "6379", undefined]
    : [target.sentinel, String(target.port), `sentinel=${target.masterName}`];
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
    ...(Deno.env.get("XDG_CACHE_HOME") ? { XDG_CACHE_HOME: Deno.env.get("XDG_CACHE_HOME")! } : {}),
    DENO_NO_UPDATE_CHECK: "1",
    PYTHONPATH: paths.REDIS_PY_PATH!,
    PYTHONUNBUFFERED: "1",
  };
  const ioredis = (label: string, ...extra: string[]) => [
    Deno.execPath(),
    "run",
    "-A",
    "--cached-only",
    `${layout.repoDir}/tests/clients/ioredis_writer.ts`,
    host,
    port,
    prefix + label,
    ...extra,
  ];
  const sentinelSetting = setting ? [setting] : [];
  const commands: Record<Library, string[]> = {
    ioredis: ioredis("ioredis", ...sentinelSetting),
    "redis-py": [
      "python3",
      `${layout.repoDir}/tests/clients/redis_py_writer.py`,
      host,
      port,
      `${prefix}redis-py`,
      ...sentinelSetting,
    ],
    "go-redis": [
      paths.GO_REDIS_WRITER!,
      `${host}:${port}`,
      `${prefix}go-redis`,
      ...sentinelSetting,
    ],
    jedis: [
      "java",
      "-cp",
      paths.JEDIS_CLASSPATH!,
      "Writer",
      `${host}:${port}`,
      `${prefix}jedis`,
      ...sentinelSetting,
    ],
    // Its one setting concerns a fixed address; through a Sentinel it is plain ioredis.
    "ioredis+reconnectOnError": ioredis("ioredis+reconnectOnError", "reconnect-on-readonly"),
    "redis-py+retryOnError": [
      "python3",
      `${layout.repoDir}/tests/clients/redis_py_writer.py`,
      host,
      port,
      `${prefix}redis-py+retryOnError`,
      ...(setting ? [setting] : ["retry-on-readonly"]),
    ],
  };
  return Object.fromEntries(
    which.map((lib) => [lib, new AppWriter(app.netns, app.resolvConf, commands[lib], env)]),
  ) as Record<L, AppWriter>;
}

/** Waits until every writer has had a write acknowledged; fails with the silent ones' stderr. */
export async function waitUntilWriting(
  writers: Partial<Record<Library, AppWriter>>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const silent = () =>
    Object.entries(writers).filter(([, w]) => !w!.wroteAfter(0)) as Array<[Library, AppWriter]>;
  while (silent().length > 0) {
    if (Date.now() > deadline) {
      const details = await Promise.all(
        silent().map(async ([lib, writer]) => {
          const last = JSON.stringify(writer.events.at(-1));
          await writer.stop();
          const stderr = (await writer.stderr()).slice(-300);
          return `${lib}: ${writer.events.length} attempts, last ${last}, stderr ${stderr}`;
        }),
      );
      throw new Error(`writers never acknowledged a write: ${details.join("; ")}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
