/**
 * Real redis-server processes on loopback for tests (never the test range).
 *
 * @module
 */

/** A running redis-server. */
export interface RedisServer {
  readonly port: number;
  readonly process: Deno.ChildProcess;
  stop(): Promise<void>;
}

/** Polls `condition` every 20 ms until it holds; throws after `timeoutMs`. */
export async function until(
  condition: () => Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A port nothing listens on right now (the kernel picks it). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts redis-server on 127.0.0.1 with persistence off; extra args are config directives. */
export async function startRedisServer(...args: string[]): Promise<RedisServer> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "redis-test-" });
  const process = new Deno.Command("redis-server", {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--repl-diskless-sync-delay",
      "0",
      "--replica-announce-ip",
      "127.0.0.1",
      ...args,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + 5000;
  while (true) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return {
    port,
    process,
    stop: async () => {
      try {
        process.kill("SIGKILL");
      } catch { /* gone */ }
      await process.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
