import assert from "node:assert/strict";
import { delay } from "../async/delay.ts";
import { KubeApiError, KubeClient, type KubeRequest, type RestClient } from "./client.ts";
import { jsonLines, listWatch, type WatchEvent } from "./watch.ts";

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
}

Deno.test("jsonLines() splits a byte stream into lines, across chunk boundaries", async () => {
  const lines: string[] = [];
  for await (const line of jsonLines(streamOf('{"a":', "1}\n\n", '{"b":2}\n{"c"', ":3}"))) {
    lines.push(line);
  }
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
});

/** A scripted API server: answers lists and watches from queues, recording every request. */
class ScriptedServer implements RestClient {
  requests: KubeRequest[] = [];
  constructor(private lists: unknown[], private watches: Array<string[] | Error>) {}
  request<T>(request: KubeRequest): Promise<T> {
    this.requests.push(request);
    return Promise.resolve(this.lists.shift() as T);
  }
  stream(request: KubeRequest): Promise<ReadableStream<Uint8Array>> {
    this.requests.push(request);
    const next = this.watches.shift();
    if (next === undefined) {
      // An idle watch: hangs until its signal aborts, as fetch does.
      return new Promise((_, reject) => {
        if (request.signal?.aborted) reject(request.signal.reason);
        request.signal?.addEventListener("abort", () => reject(request.signal?.reason));
      });
    }
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve(streamOf(...next.map((line) => line + "\n")));
  }
}

const object = (name: string, rv: string) => ({ metadata: { name, resourceVersion: rv } });
const event = (type: string, name: string, rv: string) =>
  JSON.stringify({ type, object: object(name, rv) });

Deno.test("listWatch() lists, watches from the list's version, skips bookmarks and re-lists after 410 Gone", async () => {
  const server = new ScriptedServer(
    [
      { metadata: { resourceVersion: "10" }, items: [object("a", "9")] },
      { metadata: { resourceVersion: "50" }, items: [object("a", "9"), object("b", "45")] },
    ],
    [
      [event("ADDED", "b", "11"), event("BOOKMARK", "", "20"), event("MODIFIED", "b", "21")],
      [JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } })],
    ],
  );
  const stop = new AbortController();
  const seen: WatchEvent<{ metadata: { name: string } }>[] = [];
  for await (
    const e of listWatch<{ metadata: { name: string } }>(server, "/api/v1/pods", {
      signal: stop.signal,
    })
  ) {
    seen.push(e);
    if (seen.length === 4) stop.abort();
  }
  assert.deepEqual(
    seen.map((e) =>
      e.type === "LIST" ? `LIST ${e.items.length}` : `${e.type} ${e.object.metadata.name}`
    ),
    [
      "LIST 1",
      "ADDED b",
      "MODIFIED b",
      "LIST 2",
    ],
  );
  const watchVersions = server.requests.filter((r) => r.query?.watch).map((r) =>
    r.query?.resourceVersion
  );
  // The second watch resumes after the bookmark and the last event; the third from the fresh list.
  assert.deepEqual(watchVersions, ["10", "21", "50"]);
  assert.equal(
    server.requests.filter((r) => r.query?.watch).every((r) => r.query?.allowWatchBookmarks),
    true,
  );
});

Deno.test("listWatch() reconnects after a failed watch without listing again", async () => {
  const server = new ScriptedServer(
    [{ metadata: { resourceVersion: "5" }, items: [] }],
    [new KubeApiError("GET", "/x", 500, "boom"), [event("ADDED", "c", "6")]],
  );
  const stop = new AbortController();
  const errors: unknown[] = [];
  const seen: string[] = [];
  for await (
    const e of listWatch(server, "/x", {
      signal: stop.signal,
      onError: (e) => errors.push(e),
    })
  ) {
    seen.push(e.type);
    if (e.type === "ADDED") stop.abort();
  }
  assert.deepEqual(seen, ["LIST", "ADDED"]);
  assert.equal(errors.length, 1);
  assert.equal(server.requests.filter((r) => !r.query?.watch).length, 1, "one list only");
});

Deno.test("jsonLines() ends as soon as its signal aborts, even on an idle stream", async () => {
  const idle = new ReadableStream<Uint8Array>({ start() {} });
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 20);
  const started = Date.now();
  const lines: string[] = [];
  for await (const line of jsonLines(idle, stop.signal)) lines.push(line);
  assert.deepEqual(lines, []);
  assert.ok(Date.now() - started < 1000);
});

/**
 * A fake API server on loopback: lists answer `{ items: [] }` at resource
 * version 10 (the first `hangLists` lists never answer); the n-th watch sends
 * `watchLines(n)` and then stays open and silent (unless the test sends
 * bookmarks), as a stopped API server or a dead connection does.
 */
function fakeApiServer(watchLines: (n: number) => string[], hangLists = 0) {
  const lists: number[] = [];
  const watches: Array<{ at: number; query: URLSearchParams }> = [];
  const bodies: ReadableStreamDefaultController<Uint8Array>[] = [];
  const hanging = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      if (url.searchParams.get("watch") !== "true") {
        lists.push(performance.now());
        if (lists.length <= hangLists) {
          // Never answer while the test runs.
          await hanging.promise;
        }
        return Response.json({ metadata: { resourceVersion: "10" }, items: [] });
      }
      watches.push({ at: performance.now(), query: url.searchParams });
      const lines = watchLines(watches.length);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          bodies.push(controller);
          for (const line of lines) controller.enqueue(new TextEncoder().encode(line + "\n"));
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    lists,
    watches,
    /** Sends a bookmark on the newest watch. */
    bookmark(resourceVersion: string) {
      const line = JSON.stringify({ type: "BOOKMARK", object: object("", resourceVersion) });
      bodies.at(-1)?.enqueue(new TextEncoder().encode(line + "\n"));
    },
    async close() {
      hanging.resolve();
      for (const body of bodies) {
        try {
          body.close();
        } catch {
          // Cancelled when the client went away.
        }
      }
      await server.shutdown();
    },
  };
}

Deno.test("listWatch() restarts a watch whose server goes silent, from the last resource version", async () => {
  const server = fakeApiServer((n) =>
    n === 1 ? [event("ADDED", "a", "11")] : [event("MODIFIED", "a", "12")]
  );
  const client = new KubeClient({ server: server.url, namespace: "default" }, {
    requestTimeoutMs: 2_000,
  });
  const stop = new AbortController();
  // Bounds the test where the watchdog is missing: the silent watch would hang for minutes.
  const giveUp = setTimeout(() => stop.abort(), 5_000);
  const seen: string[] = [];
  const errors: unknown[] = [];
  try {
    for await (
      const e of listWatch<{ metadata: { name: string } }>(client, "/api/v1/pods", {
        signal: stop.signal,
        idleTimeoutMs: 300,
        onError: (error) => errors.push(error),
      })
    ) {
      seen.push(e.type === "LIST" ? "LIST" : `${e.type} ${e.object.metadata.name}`);
      if (e.type === "MODIFIED") stop.abort();
    }
  } finally {
    clearTimeout(giveUp);
    client.close();
    await server.close();
  }
  assert.deepEqual(seen, ["LIST", "ADDED a", "MODIFIED a"]);
  assert.equal(server.lists.length, 1, "a silent watch resumes without a new list");
  assert.equal(server.watches.length, 2);
  assert.equal(server.watches[1]!.query.get("resourceVersion"), "11");
  for (const watch of server.watches) {
    assert.equal(watch.query.get("allowWatchBookmarks"), "true");
    assert.ok(Number(watch.query.get("timeoutSeconds")) > 0, "a server-side timeout is asked for");
  }
  const silence = server.watches[1]!.at - server.watches[0]!.at;
  assert.ok(silence >= 290, `restarted after ${silence} ms of silence, not before`);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /Watch of \/api\/v1\/pods received nothing for 300 ms/);
});

Deno.test("listWatch() keeps a watch that only sends bookmarks", async () => {
  let bookmarks: ReturnType<typeof setInterval> | undefined;
  const server = fakeApiServer(() => [event("BOOKMARK", "", "11")]);
  const client = new KubeClient({ server: server.url, namespace: "default" }, {
    requestTimeoutMs: 2_000,
  });
  const stop = new AbortController();
  const errors: unknown[] = [];
  try {
    const events = listWatch(client, "/api/v1/pods", {
      signal: stop.signal,
      idleTimeoutMs: 300,
      onError: (error) => errors.push(error),
    });
    assert.equal((await events.next()).value?.type, "LIST");
    const next = events.next();
    await delay(50);
    // Bookmarks every 100 ms, for well over the 300 ms idle limit.
    let rv = 11;
    bookmarks = setInterval(() => server.bookmark(String(++rv)), 100);
    await delay(1_000);
    stop.abort();
    assert.equal((await next).done, true);
  } finally {
    clearInterval(bookmarks);
    client.close();
    await server.close();
  }
  assert.deepEqual(errors, []);
  assert.equal(server.watches.length, 1, "a watch alive with bookmarks is not restarted");
});

Deno.test("listWatch() retries a list that never answers, bounded by the client's request timeout", async () => {
  const server = fakeApiServer(() => [], 1);
  const client = new KubeClient({ server: server.url, namespace: "default" }, {
    requestTimeoutMs: 300,
  });
  const stop = new AbortController();
  const giveUp = setTimeout(() => stop.abort(), 5_000);
  const errors: unknown[] = [];
  const seen: string[] = [];
  try {
    for await (
      const e of listWatch(client, "/api/v1/pods", {
        signal: stop.signal,
        onError: (error) => errors.push(error),
      })
    ) {
      seen.push(e.type);
      stop.abort();
    }
  } finally {
    clearTimeout(giveUp);
    client.close();
    await server.close();
  }
  assert.deepEqual(seen, ["LIST"]);
  assert.equal(server.lists.length, 2);
  assert.match(String(errors[0]), /Kubernetes API GET \/api\/v1\/pods timed out after 300 ms/);
});

Deno.test("listWatch() gives listed objects the apiVersion and kind the API server leaves out of list items", async () => {
  const server = new ScriptedServer(
    [{
      apiVersion: "v1",
      kind: "ServiceList",
      metadata: { resourceVersion: "10" },
      items: [object("a", "9")],
    }],
    [],
  );
  const stop = new AbortController();
  for await (const event of listWatch(server, "/api/v1/services", { signal: stop.signal })) {
    assert.equal(event.type, "LIST");
    assert.deepEqual(event.type === "LIST" && event.items, [
      { apiVersion: "v1", kind: "Service", ...object("a", "9") },
    ]);
    stop.abort();
  }
});
