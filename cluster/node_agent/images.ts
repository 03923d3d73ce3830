/**
 * What the node agent can run in place of a container image, and the command
 * line it runs. Pure functions.
 *
 * @module
 */
import type { Container } from "kubernetes-types/core/v1.d.ts";

/** The kinds of image the agent knows how to run as host processes. */
export type ImageKind = "redis" | "operator" | "coredns" | "redis-exporter";

/**
 * Classifies an image by its repository name, ignoring registry, tag and digest:
 * any `redis` or `valkey` image runs the host's redis-server; any
 * `redis-operator` image runs this repository's `main.ts` with Deno; any
 * `coredns` image runs the CoreDNS build cached beside the control plane; any
 * `redis_exporter` image (oliver006's) runs Debian's prometheus-redis-exporter.
 *
 * @example
 * ```ts
 * classifyImage("docker.io/library/redis:7.2-alpine"); // "redis"
 * ```
 */
export function classifyImage(image: string): ImageKind | undefined {
  const withoutDigest = image.split("@")[0] ?? "";
  const lastSegment = withoutDigest.split("/").pop() ?? "";
  const repository = lastSegment.split(":")[0] ?? "";
  if (repository === "redis" || repository === "valkey") return "redis";
  if (repository === "redis-operator") return "operator";
  if (repository === "coredns") return "coredns";
  if (repository === "redis_exporter") return "redis-exporter";
  return undefined;
}

/**
 * Expands `$(VAR)` references the way the kubelet does: known variables are
 * replaced, `$$(VAR)` escapes to a literal `$(VAR)`, unknown ones stay as written.
 *
 * @example
 * ```ts
 * expandVariables("--ip $(POD_IP)", { POD_IP: "198.18.1.2" }); // "--ip 198.18.1.2"
 * ```
 */
export function expandVariables(text: string, env: Record<string, string>): string {
  return text.replace(/\$(\$|\(([A-Za-z_][A-Za-z0-9_.-]*)\))/g, (match, escapeOrRef, name) => {
    if (escapeOrRef === "$") return "$";
    return name in env ? env[name]! : match;
  });
}

/** Programs of the official images that the host has under another name. */
const programAliases: Record<string, string> = {
  "valkey-server": "redis-server",
  "valkey-cli": "redis-cli",
  "valkey-sentinel": "redis-sentinel",
};

/**
 * The command line for a redis/valkey container, following the official
 * image's entrypoint: with no `command`, `args` replace the default
 * `redis-server`, and arguments that start with `-` or end in `.conf` get
 * `redis-server` put in front of them. Valkey's programs run as the host's
 * Redis ones unless a Valkey build runs the image (`valkeyBuild`).
 */
export function buildRedisCommand(
  container: Container,
  env: Record<string, string>,
  valkeyBuild = false,
): string[] {
  const expand = (parts: string[] | undefined) =>
    (parts ?? []).map((part) => expandVariables(part, env));
  let argv = container.command?.length
    ? [...expand(container.command), ...expand(container.args)]
    : expand(container.args);
  if (argv[0] === "docker-entrypoint.sh" || argv[0] === "/usr/local/bin/docker-entrypoint.sh") {
    argv = argv.slice(1);
  }
  if (argv.length === 0) argv = ["redis-server"];
  if (argv[0]!.startsWith("-") || argv[0]!.endsWith(".conf")) argv = ["redis-server", ...argv];
  const program = argv[0]!.split("/").pop()!;
  const alias = valkeyBuild ? undefined : programAliases[program];
  return alias ? [alias, ...argv.slice(1)] : argv;
}

/**
 * The command line for an operator container: `deno run` of this repository's
 * `main.ts` with the container's arguments. `--cached-only` because pods have
 * no route to a package registry; `cluster up` fills the cache first.
 */
export function buildOperatorCommand(
  container: Container,
  env: Record<string, string>,
  denoPath: string,
  mainModule: string,
): string[] {
  const args = (container.args ?? []).map((arg) => expandVariables(arg, env));
  return [denoPath, "run", "--allow-all", "--cached-only", mainModule, ...args];
}

/**
 * The command line for an image whose entrypoint is one program, run here
 * from `binary` (CoreDNS's `coredns`, redis_exporter's `redis_exporter`):
 * `args` follow it; `command`, when given, replaces it, and naming the
 * entrypoint there still runs `binary`.
 */
export function buildEntrypointCommand(
  container: Container,
  env: Record<string, string>,
  entrypoint: string,
  binary: string,
): string[] {
  const expand = (parts: string[] | undefined) =>
    (parts ?? []).map((part) => expandVariables(part, env));
  if (container.command?.length) {
    const [program, ...rest] = expand(container.command);
    return [
      program!.split("/").pop() === entrypoint ? binary : program!,
      ...rest,
      ...expand(container.args),
    ];
  }
  return [binary, ...expand(container.args)];
}

/**
 * The official redis and valkey images build the server with `protected-mode no`
 * as its compiled-in default, so a config file may still turn it on. The host's
 * redis-server defaults to yes, so the same default is given on the command line,
 * but only when neither the arguments nor the config file (`configText`, with the
 * files it includes already appended) say otherwise.
 *
 * @example
 * ```ts
 * withImageDefaults(["redis-server", "--save", ""]); // [..., "--protected-mode", "no"]
 * ```
 */
export function withImageDefaults(argv: string[], configText = ""): string[] {
  if (!serverPrograms.has(argv[0] ?? "")) return argv;
  const inArgs = argv.some((arg) => arg.toLowerCase() === "--protected-mode");
  const inConfig = /^\s*protected-mode\s/im.test(configText);
  return inArgs || inConfig ? argv : [...argv, "--protected-mode", "no"];
}

/** The config file a redis-server or valkey-server command line names, if any (its first argument). */
export function redisConfigPath(argv: string[]): string | undefined {
  const first = argv[1];
  return serverPrograms.has(argv[0] ?? "") && first && !first.startsWith("-") ? first : undefined;
}

/**
 * The server programs the images build with `protected-mode no`; `valkey-server`
 * stays under its name when a Valkey build runs the image (Debian's defaults to yes too).
 */
const serverPrograms = new Set(["redis-server", "valkey-server"]);
