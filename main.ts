/**
 * The redis-operator entry point. Wiring only: reads flags and environment,
 * turns SIGTERM into an AbortController.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { delay } from "./src/async/delay.ts";
import { KubeClient } from "./src/kube/client.ts";
import { loadClusterConfig } from "./src/kube/config.ts";
import { serveHealth } from "./src/observe/health_server.ts";
import { configureLogging, operatorLogger } from "./src/observe/logging.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    "health-port": { type: "string", default: Deno.env.get("HEALTH_PORT") ?? "8080" },
    kubeconfig: { type: "string" },
    "log-level": { type: "string", default: Deno.env.get("LOG_LEVEL") ?? "info" },
  },
});

await configureLogging(flags["log-level"] as "debug" | "info" | "warning");
const log = operatorLogger("main");
const stop = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, () => stop.abort(new Error(`received ${signal}`)));
}

const config = await loadClusterConfig(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {});
const client = new KubeClient(config);
let apiProblem: string | undefined = "the API server has not answered yet";
const server = serveHealth(
  Number(flags["health-port"]),
  { notReadyReason: () => apiProblem },
  stop.signal,
);
log.info("redis-operator starting", { server: config.server, namespace: config.namespace });

// Readiness follows whether the API server answers us with our own credentials.
while (!stop.signal.aborted) {
  try {
    const version = await client.request<{ gitVersion: string }>({
      path: "/version",
      signal: stop.signal,
    });
    if (apiProblem !== undefined) {
      log.info("connected to the API server", { version: version.gitVersion });
    }
    apiProblem = undefined;
  } catch (error) {
    if (stop.signal.aborted) break;
    apiProblem = `the API server does not answer: ${
      error instanceof Error ? error.message : error
    }`;
    log.warn("API server unreachable", { error: apiProblem });
  }
  await delay(5000, stop.signal).catch(() => {});
}
await server.finished;
client.close();
log.info("redis-operator stopped", { reason: String(stop.signal.reason) });
