import assert from "node:assert/strict";
import { KubeApiError, KubeClient, unlessNotFound } from "./client.ts";
import { timeoutSignal } from "./timeout_signal.ts";

Deno.test("unlessNotFound() turns a 404 into undefined and passes every other error on", async () => {
  assert.equal(await unlessNotFound(Promise.resolve("found")), "found");
  const missing = new KubeApiError("GET", "/api/v1/x", 404, { reason: "NotFound" });
  assert.equal(await unlessNotFound(Promise.reject(missing)), undefined);
  const forbidden = new KubeApiError("GET", "/api/v1/x", 403, { reason: "Forbidden" });
  await assert.rejects(unlessNotFound(Promise.reject(forbidden)), forbidden);
});

/**
 * A TCP server on loopback that accepts connections, reads the request, and
 * then sends `reply` (nothing at all by default) and never closes: what a
 * stopped (SIGSTOP) or wedged API server looks like from the client.
 */
function silentServer(reply = "") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      connections.push(conn);
      if (reply) conn.write(new TextEncoder().encode(reply)).catch(() => {});
    }
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    connections,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      for (const conn of connections) {
        try {
          conn.close();
        } catch {
          // Already closed by the client.
        }
      }
    },
  };
}

Deno.test("KubeClient.request() to a server that never answers fails after its timeout, naming method, path and limit", async () => {
  const server = silentServer();
  const client = new KubeClient({ server: server.url, namespace: "default" }, {
    requestTimeoutMs: 200,
  });
  try {
    const started = performance.now();
    await assert.rejects(
      client.request({ method: "PUT", path: "/apis/coordination.k8s.io/v1/leases/x", body: {} }),
      (error: Error) => {
        assert.equal(error.name, "TimeoutError");
        assert.match(
          error.message,
          /^Kubernetes API PUT \/apis\/coordination\.k8s\.io\/v1\/leases\/x timed out after 200 ms$/,
        );
        return true;
      },
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 190 && elapsed < 2000, `took ${elapsed} ms`);
    assert.equal(server.connections.length, 1, "the server did accept the connection");
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("KubeClient.request() times out on a server that sends headers and then stalls in the body", async () => {
  const server = silentServer(
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
  );
  const client = new KubeClient({ server: server.url, namespace: "default" }, {
    requestTimeoutMs: 200,
  });
  try {
    await assert.rejects(
      client.request({ path: "/api/v1/pods" }),
      /Kubernetes API GET \/api\/v1\/pods timed out after 200 ms/,
    );
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("KubeClient.request() keeps the caller's abort reason when the caller aborts first", async () => {
  const server = silentServer();
  const client = new KubeClient({ server: server.url, namespace: "default" }, {
    requestTimeoutMs: 5_000,
  });
  try {
    const caller = new AbortController();
    setTimeout(() => caller.abort(new Error("shutting down")), 50);
    await assert.rejects(
      client.request({ path: "/api/v1/pods", signal: caller.signal }),
      /shutting down/,
    );
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("KubeClient.stream() limits the wait for headers, not the life of the body", async () => {
  const hung = silentServer();
  const streaming = silentServer(
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
  );
  const options = { requestTimeoutMs: 200 };
  const toHung = new KubeClient({ server: hung.url, namespace: "default" }, options);
  const toStreaming = new KubeClient({ server: streaming.url, namespace: "default" }, options);
  const caller = new AbortController();
  try {
    await assert.rejects(
      toHung.stream({ path: "/api/v1/pods", query: { watch: true } }),
      /Kubernetes API GET \/api\/v1\/pods timed out after 200 ms/,
    );
    const body = await toStreaming.stream({ path: "/api/v1/pods", signal: caller.signal });
    const reader = body.getReader();
    const read = reader.read();
    // Well past the limit, the open body is still waiting, not failed.
    const outcome = await Promise.race([
      read.then(() => "read", () => "failed"),
      new Promise((resolve) => setTimeout(() => resolve("still open"), 500)),
    ]);
    assert.equal(outcome, "still open");
    caller.abort(new Error("done"));
    await read.catch(() => {});
    reader.releaseLock();
  } finally {
    toHung.close();
    toStreaming.close();
    await hung.close();
    await streaming.close();
  }
});

/**
 * An HTTP/1.1 server on loopback that answers every request with `{}` after
 * 100 ms, keeping the connection open for more, except requests to a path
 * with "hang" in it, which it never answers.
 */
function keepAliveServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Deno.Conn[] = [];
  const serve = async (conn: Deno.Conn) => {
    const buffer = new Uint8Array(16384);
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
      const request = new TextDecoder().decode(buffer.subarray(0, n));
      if (request.split("\r\n")[0]?.includes("hang")) continue;
      await new Promise((r) => setTimeout(r, 100));
      await conn.write(
        new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"),
      );
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      connections.push(conn);
      serve(conn).catch(() => {});
    }
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    connections,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      for (const conn of connections) {
        try {
          conn.close();
        } catch {
          // Already closed by the client.
        }
      }
    },
  };
}

Deno.test("KubeClient renews its connections when a caller's deadline runs out, not only its own limit", async () => {
  const server = keepAliveServer();
  const client = new KubeClient({ server: server.url, namespace: "default" }, {
    requestTimeoutMs: 5_000,
  });
  try {
    // Two requests at once: two kept-alive connections in the pool.
    await Promise.all([client.request({ path: "/a" }), client.request({ path: "/b" })]);
    assert.equal(server.connections.length, 2);
    // Leader election limits each Lease attempt below the client's own limit.
    const deadline = timeoutSignal(200, undefined, "Lease attempt timed out after 200 ms");
    await assert.rejects(
      client.request({ path: "/hang", signal: deadline.signal }),
      /Lease attempt timed out/,
    );
    // The next request goes over a new connection, not the other one of the suspect pool.
    await client.request({ path: "/c" });
    assert.equal(server.connections.length, 3);
  } finally {
    client.close();
    await server.close();
  }
});
