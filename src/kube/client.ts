/**
 * A thin Kubernetes REST client on `fetch` and `Deno.createHttpClient`.
 *
 * @module
 */
import type { KubeRequest, RestClient } from "../../generated/contract.ts";
import type { ClusterConfig } from "./config.ts";
import { type TimeoutSignal, timeoutSignal } from "./timeout_signal.ts";

export type { KubeRequest, RestClient } from "../../generated/contract.ts";

/** An error status returned by the API server; callers branch on `status` and `reason`. */
export class KubeApiError extends Error {
  /** HTTP status code, e.g. 404, 409, 410, 422. */
  readonly status: number;
  /** The `reason` of the returned `Status` object, e.g. `NotFound`, `AlreadyExists`, `Expired`. */
  readonly reason: string;
  /** The full `Status` object as returned, when the body was one. */
  readonly body: unknown;

  constructor(method: string, path: string, status: number, body: unknown) {
    const statusObject = body as { message?: string; reason?: string } | undefined;
    const message = statusObject?.message ?? (typeof body === "string" ? body : "");
    super(`Kubernetes API ${method} ${path} failed with ${status}: ${message}`);
    this.name = "KubeApiError";
    this.status = status;
    this.reason = statusObject?.reason ?? "";
    this.body = body;
  }
}

/** Is this a 404 from the API server? */
export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

/**
 * The request's result, or undefined when the object does not exist (404);
 * any other error is thrown.
 *
 * @example
 * ```ts ignore
 * const secret = await unlessNotFound(api.get("default", "maybe-there"));
 * ```
 */
export async function unlessNotFound<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Is this a 409 (already exists or conflict) from the API server? */
export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 409;
}

/** Options of {@linkcode KubeClient}. */
export interface KubeClientOptions {
  /** Sees every request before it is sent (metrics count them). */
  readonly onRequest?: (method: string, path: string) => void;
  /**
   * How long one request may take, in milliseconds: until the whole body of a
   * `request()` is read, until the headers of a `stream()` arrive (a watch body
   * then stays open; its idle watchdog is in `watch.ts`). Default
   * {@linkcode defaultRequestTimeoutMs}.
   */
  readonly requestTimeoutMs?: number;
}

/**
 * The default time limit of one request. An API server answers a healthy
 * request in milliseconds; one that accepted the connection and then hangs
 * (stopped, overloaded, half-open TCP) would otherwise hang every caller forever,
 * the leader's renewals included.
 */
export const defaultRequestTimeoutMs = 10_000;

/**
 * The fetch-based {@linkcode RestClient}. Every request is bounded by
 * `requestTimeoutMs` as well as by the caller's signal; a request that runs out
 * of time rejects with a `TimeoutError` naming the method, path and limit.
 *
 * @example
 * ```ts ignore
 * const client = new KubeClient(await loadClusterConfig(), { requestTimeoutMs: 5_000 });
 * const pods = await client.request({ path: "/api/v1/namespaces/default/pods" });
 * ```
 */
export class KubeClient implements RestClient {
  readonly config: ClusterConfig;
  /** The time limit of every request, in milliseconds. */
  readonly requestTimeoutMs: number;
  #http: Deno.HttpClient;

  readonly #onRequest: ((method: string, path: string) => void) | undefined;

  constructor(config: ClusterConfig, options: KubeClientOptions = {}) {
    this.config = config;
    this.#onRequest = options.onRequest;
    this.requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
    const tls = config.clientCert && config.clientKey
      ? { cert: config.clientCert, key: config.clientKey }
      : undefined;
    this.#newHttp = () =>
      Deno.createHttpClient({
        ...(config.caCert ? { caCerts: [config.caCert] } : {}),
        ...(tls ?? {}),
      } as Deno.CreateHttpClientOptions);
    this.#http = this.#newHttp();
  }

  readonly #newHttp: () => Deno.HttpClient;

  /**
   * After a request timed out, later ones go over new connections: requests
   * share one HTTP/2 connection, and one whose packets were dropped (a
   * partition, a stopped API server) stays established while TCP backs off its
   * retransmissions, so every request on it timed out for tens of seconds
   * after the network was back (seen after a cut of the leading operator). Closing
   * the old pool does not end what is still open on it (measured over HTTP/1.1: a
   * streaming body stays open), so a watch there ends by its own error or
   * timeout; every later request goes over the new pool.
   */
  #renewConnections(used: Deno.HttpClient): void {
    // Once per stalled pool: requests that timed out with it renew it only once.
    if (used !== this.#http) return;
    this.#http = this.#newHttp();
    used.close();
  }

  async request<T = unknown>(request: KubeRequest): Promise<T> {
    const method = request.method ?? "GET";
    const limit = this.#limit(method, request);
    const http = this.#http;
    try {
      const response = await this.#send(request, limit.signal, http);
      // The body is read under the same limit: a server may send headers and then stall.
      const text = await response.text();
      const body = text ? safeJson(text) : undefined;
      if (!response.ok) throw new KubeApiError(method, request.path, response.status, body);
      return body as T;
    } catch (error) {
      if (timedOut(limit)) this.#renewConnections(http);
      throw limit.expired ? limit.signal.reason : error;
    } finally {
      limit.clear();
    }
  }

  async stream(request: KubeRequest): Promise<ReadableStream<Uint8Array>> {
    const limit = this.#limit("GET", request);
    const http = this.#http;
    try {
      const response = await this.#send(request, limit.signal, http);
      if (!response.ok || !response.body) {
        const text = await response.text();
        throw new KubeApiError("GET", request.path, response.status, text ? safeJson(text) : text);
      }
      return response.body;
    } catch (error) {
      if (timedOut(limit)) this.#renewConnections(http);
      throw limit.expired ? limit.signal.reason : error;
    } finally {
      // Only the wait for the headers is limited; the caller's signal still ends the body.
      limit.clear();
    }
  }

  /** Releases the connection pool. */
  close(): void {
    this.#http.close();
  }

  #limit(method: string, request: KubeRequest) {
    return timeoutSignal(
      this.requestTimeoutMs,
      request.signal,
      `Kubernetes API ${method} ${request.path} timed out after ${this.requestTimeoutMs} ms`,
    );
  }

  async #send(
    request: KubeRequest,
    signal: AbortSignal,
    http: Deno.HttpClient,
  ): Promise<Response> {
    const method = request.method ?? "GET";
    this.#onRequest?.(method, request.path);
    const url = new URL(this.config.server + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: "application/json" };
    // The token source may run an exec plugin or read a file: it counts against the limit too.
    if (this.config.token) {
      headers.authorization = `Bearer ${await abortable(this.config.token(), signal)}`;
    }
    let body: string | undefined;
    if (request.body !== undefined) {
      headers["content-type"] = request.contentType ?? "application/json";
      body = typeof request.body === "string" ? request.body : JSON.stringify(request.body);
    }
    return await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal,
      client: http,
    });
  }
}

/**
 * Did the request end because time ran out: its own limit, or a deadline of the
 * caller's (leader election gives each Lease attempt one, shorter than the
 * limit)? Either says the connection may be stalled; a caller that aborts for
 * another reason (shutting down) says nothing about it.
 */
function timedOut(limit: TimeoutSignal): boolean {
  const reason = limit.signal.reason as { name?: unknown } | undefined;
  return limit.expired || (limit.signal.aborted && reason?.name === "TimeoutError");
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
