import assert from "node:assert/strict";
import { KubeApiError, type KubeRequest, type RestClient } from "./client.ts";
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
