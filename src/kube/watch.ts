/**
 * List-watch as an async generator: a full list, then watch events from that
 * resource version, with bookmarks, a fresh list after 410 Gone, an idle
 * watchdog and reconnects with capped exponential backoff.
 *
 * @module
 */
import { delay } from "../async/delay.ts";
import { KubeApiError, type RestClient } from "./client.ts";
import { Watchdog } from "./watchdog.ts";

/** The metadata every listed object carries. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string | undefined;
    namespace?: string | undefined;
    uid?: string | undefined;
    resourceVersion?: string | undefined;
  };
}

/**
 * What a list-watch yields. `LIST` carries the complete current set (after the
 * first list and after every re-list), so a consumer replaces its cache; the
 * other events change one object.
 */
export type WatchEvent<T> =
  | { type: "LIST"; items: T[] }
  | { type: "ADDED" | "MODIFIED" | "DELETED"; object: T };

/** Options of {@linkcode listWatch}. */
export interface ListWatchOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Stops the generator; it then returns without throwing. */
  readonly signal: AbortSignal;
  /** Called when a connection fails and is about to be retried. */
  readonly onError?: (error: unknown) => void;
  /**
   * A watch on which nothing (no event, no bookmark) arrives for this long is
   * taken for dead, aborted and started again. Default
   * {@linkcode defaultWatchIdleTimeoutMs}.
   */
  readonly idleTimeoutMs?: number;
}

/**
 * How long a watch may stay silent before it is restarted: twice the interval
 * at which the API server sends bookmarks (about a minute) to a watch that asks
 * for them. A silent watch is otherwise indistinguishable from one whose server
 * is stopped or whose TCP connection died without a reset: it would wait out
 * the whole server-side timeout, minutes of missed changes.
 */
export const defaultWatchIdleTimeoutMs = 120_000;

/**
 * Lists and watches the collection at `path` until `signal` aborts. The list
 * is bounded by the client's request timeout; each watch by an idle watchdog
 * (`idleTimeoutMs`), after which it resumes from the last resource version seen.
 *
 * @example
 * ```ts ignore
 * for await (const event of listWatch(client, "/api/v1/pods", { signal })) {
 *   if (event.type === "LIST") cache.replace(event.items);
 * }
 * ```
 */
export async function* listWatch<T extends KubeObject>(
  client: RestClient,
  path: string,
  options: ListWatchOptions,
): AsyncGenerator<WatchEvent<T>> {
  const { signal } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? defaultWatchIdleTimeoutMs;
  const selectors = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  let resourceVersion: string | undefined;
  let backoffMs = 250;
  while (!signal.aborted) {
    try {
      if (resourceVersion === undefined) {
        const list = await client.request<ListResponse<T>>({ path, query: selectors, signal });
        resourceVersion = list.metadata.resourceVersion;
        yield { type: "LIST", items: withTypeOfList(list) };
      }
      // Ends this one watch (not the generator) when the watchdog bites.
      const idle = new AbortController();
      const watchSignal = AbortSignal.any([signal, idle.signal]);
      const body = await client.stream({
        path,
        query: {
          ...selectors,
          watch: true,
          resourceVersion,
          // Bookmarks keep our resource version fresh and prove the watch alive when nothing changes.
          allowWatchBookmarks: true,
          // The server ends the watch after this long; we simply reconnect.
          timeoutSeconds: 240 + Math.floor(Math.random() * 60),
        },
        signal: watchSignal,
      });
      const watchdog = new Watchdog(idleTimeoutMs, () =>
        idle.abort(
          new DOMException(
            `Watch of ${path} received nothing for ${idleTimeoutMs} ms: restarting it`,
            "TimeoutError",
          ),
        ));
      try {
        for await (const line of jsonLines(body, watchSignal)) {
          watchdog.kick();
          const event = JSON.parse(line) as { type: string; object: T & { code?: number } };
          if (event.type === "ERROR") {
            throw new KubeApiError("WATCH", path, event.object.code ?? 500, event.object);
          }
          resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
          backoffMs = 250;
          if (event.type === "BOOKMARK") continue;
          yield event as WatchEvent<T>;
          // A slow consumer is not a silent server.
          watchdog.kick();
        }
      } finally {
        watchdog.stop();
      }
      if (idle.signal.aborted && !signal.aborted) throw idle.signal.reason;
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof KubeApiError && error.status === 410) {
        // Our resource version was compacted away: start again from a fresh list.
        resourceVersion = undefined;
        continue;
      }
      options.onError?.(error);
      try {
        await delay(backoffMs, signal);
      } catch {
        return;
      }
      backoffMs = Math.min(backoffMs * 2, 30_000);
    }
  }
}

/** A list as the API server sends it. */
interface ListResponse<T> {
  readonly apiVersion?: string;
  /** `ServiceList`, `PodList`… */
  readonly kind?: string;
  readonly items: T[];
  readonly metadata: { readonly resourceVersion: string };
}

/**
 * The items of a list with the `apiVersion` and `kind` the API server leaves
 * out of them (a watch event's object carries both). Without them an object
 * listed and never changed since would differ from the same object seen in an
 * event: compared with what the operator applies (decide/drift.ts), it looked
 * drifted on every pass of a new leader, and the applies, changing nothing on
 * the server, brought no event to correct the cache.
 */
export function withTypeOfList<T extends KubeObject>(list: ListResponse<T>): T[] {
  const kind = list.kind?.endsWith("List") ? list.kind.slice(0, -"List".length) : undefined;
  if (!kind || !list.apiVersion) return list.items;
  return list.items.map((item) => ({ apiVersion: list.apiVersion, kind, ...item }));
}

/**
 * Splits a byte stream into its non-empty lines. Aborting `signal` cancels the
 * stream at once (an idle watch would otherwise only end at its server timeout).
 */
export async function* jsonLines(
  stream: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  const cancel = () => reader.cancel().catch(() => {});
  signal?.addEventListener("abort", cancel, { once: true });
  let buffered = "";
  try {
    while (!signal?.aborted) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) yield line;
      }
    }
    if (!signal?.aborted && buffered.trim()) yield buffered.trim();
  } finally {
    signal?.removeEventListener("abort", cancel);
    reader.releaseLock();
  }
}
