/**
 * The HTTP endpoints probes and Prometheus call: `/healthz` (the process
 * serves), `/readyz` (it can do its work) and `/metrics` when given.
 *
 * @module
 */

/** What the health server asks the rest of the operator. */
export interface HealthSources {
  /** Undefined when ready, otherwise the reason it is not. */
  readonly notReadyReason: () => string | undefined;
  /** Prometheus text exposition, when metrics are available. */
  readonly metrics?: () => string;
}

/**
 * Serves the endpoints on `port` until `signal` aborts.
 *
 * @example
 * ```ts ignore
 * serveHealth(8080, { notReadyReason: () => undefined }, signal);
 * ```
 */
export function serveHealth(
  port: number,
  sources: HealthSources,
  signal: AbortSignal,
): Deno.HttpServer {
  return Deno.serve({ port, hostname: "0.0.0.0", signal, onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/healthz" || path === "/livez") return new Response("ok\n");
    if (path === "/readyz") {
      const reason = sources.notReadyReason();
      return reason === undefined
        ? new Response("ok\n")
        : new Response(`not ready: ${reason}\n`, { status: 503 });
    }
    if (path === "/metrics" && sources.metrics) {
      return new Response(sources.metrics(), {
        headers: { "content-type": "text/plain; version=0.0.4" },
      });
    }
    return new Response("not found\n", { status: 404 });
  });
}
