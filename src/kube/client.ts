/**
 * A thin Kubernetes REST client on `fetch` and `Deno.createHttpClient`.
 *
 * @module
 */
import type { KubeRequest, RestClient } from "../../generated/contract.ts";
import type { ClusterConfig } from "./config.ts";

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
 * ```ts
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

/**
 * The fetch-based {@linkcode RestClient}.
 *
 * @example
 * ```ts ignore
 * const client = new KubeClient(await loadClusterConfig());
 * const pods = await client.request({ path: "/api/v1/namespaces/default/pods" });
 * ```
 */
export class KubeClient implements RestClient {
  readonly config: ClusterConfig;
  #http: Deno.HttpClient;

  readonly #onRequest: ((method: string, path: string) => void) | undefined;

  /** `onRequest` sees every request before it is sent (metrics count them). */
  constructor(config: ClusterConfig, onRequest?: (method: string, path: string) => void) {
    this.config = config;
    this.#onRequest = onRequest;
    const tls = config.clientCert && config.clientKey
      ? { cert: config.clientCert, key: config.clientKey }
      : undefined;
    this.#http = Deno.createHttpClient({
      ...(config.caCert ? { caCerts: [config.caCert] } : {}),
      ...(tls ?? {}),
    } as Deno.CreateHttpClientOptions);
  }

  async request<T = unknown>(request: KubeRequest): Promise<T> {
    const response = await this.#send(request);
    const text = await response.text();
    const body = text ? safeJson(text) : undefined;
    if (!response.ok) {
      throw new KubeApiError(request.method ?? "GET", request.path, response.status, body);
    }
    return body as T;
  }

  async stream(request: KubeRequest): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#send(request);
    if (!response.ok || !response.body) {
      const text = await response.text();
      throw new KubeApiError("GET", request.path, response.status, text ? safeJson(text) : text);
    }
    return response.body;
  }

  /** Releases the connection pool. */
  close(): void {
    this.#http.close();
  }

  async #send(request: KubeRequest): Promise<Response> {
    const method = request.method ?? "GET";
    this.#onRequest?.(method, request.path);
    const url = new URL(this.config.server + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.config.token) headers.authorization = `Bearer ${await this.config.token()}`;
    let body: string | undefined;
    if (request.body !== undefined) {
      headers["content-type"] = request.contentType ?? "application/json";
      body = typeof request.body === "string" ? request.body : JSON.stringify(request.body);
    }
    return await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      ...(request.signal ? { signal: request.signal } : {}),
      client: this.#http,
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
