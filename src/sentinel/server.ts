/**
 * The Sentinel endpoint's TCP server: one session per connection, commands
 * answered in order, `+switch-master` pushed to subscribers. Every cost a
 * client can cause is bounded: frame sizes (resp.ts), the query buffer, the
 * output waiting for a slow subscriber, and the number of connections. A
 * client can never hold up anything but its own connection, so the
 * reconcile loop in the same process goes on.
 *
 * @module
 */
import { type EndpointContext, newSession, runCommand, type Session } from "./commands.ts";
import {
  authenticatedLimits,
  CommandReader,
  encodeReply,
  reply,
  unauthenticatedLimits,
} from "./resp.ts";
import type { SentinelEntry } from "./view.ts";

/** Limits of the server (redis-sentinel's defaults where it has one). */
export interface ServerLimits {
  /** Connections at once (maxclients). */
  readonly maxClients: number;
  /** Bytes of unread commands a connection may send ahead (client-query-buffer-limit). */
  readonly maxQueryBytes: number;
  /** Bytes of pushed messages a subscriber may leave unread (client-output-buffer-limit pubsub). */
  readonly maxPendingOutputBytes: number;
}

/** Unread bytes a connection may send before it has authenticated. */
const unauthenticatedQueryBytes = 20 * 1024;

/**
 * The defaults: 2000 clients (an idle one costs a few KB, a stranger's at most
 * 20 KB more: about 60 MB in all, well inside the operator's memory limit),
 * 128 KiB of query buffer, 1 MiB of unread output.
 */
export const defaultServerLimits: ServerLimits = {
  maxClients: 2000,
  maxQueryBytes: 128 * 1024,
  maxPendingOutputBytes: 1024 * 1024,
};

/** What the server reports as it runs. */
export interface ServerEvents {
  onClientsChanged?(count: number): void;
  onMessagePushed?(channel: string): void;
  onCommand?(command: string): void;
}

/** A running endpoint. */
export interface SentinelServer {
  readonly port: number;
  /** Sends `message` on `channel` to every subscriber that may see `entry`. */
  publish(channel: string, message: string, entry: SentinelEntry): Promise<void>;
  connectedClients(): number;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();

/** Serves the endpoint on `port` (0: any) of `hostname` until closed. */
export function serveSentinel(
  options: {
    readonly hostname: string;
    readonly port: number;
    readonly context: Omit<EndpointContext, "port" | "connectedClients">;
    readonly limits?: ServerLimits;
    readonly events?: ServerEvents;
    /** Commands wait for it (the view's caches filling); connections are taken at once. */
    readonly ready?: Promise<void>;
  },
): SentinelServer {
  const limits = options.limits ?? defaultServerLimits;
  const listener = listen(options.hostname, options.port);
  const port = (listener.addr as Deno.NetAddr).port;
  const connections = new Set<Connection>();
  let nextId = 1;
  const context: EndpointContext = {
    ...options.context,
    port,
    connectedClients: () => connections.size,
  };
  const changed = () => options.events?.onClientsChanged?.(connections.size);
  let closed = false;
  const accepting = (async () => {
    while (!closed) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closed || error instanceof Deno.errors.BadResource) return;
        // Out of file descriptors (EMFILE) or a connection reset before it was accepted:
        // the listener stays, and tries again once others have closed.
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (connections.size >= limits.maxClients) {
        // redis-server's answer, then the door: a flood of connections costs one reply each.
        conn.write(encoder.encode("-ERR max number of clients reached\r\n"))
          .catch(() => {}).finally(() => closeQuietly(conn));
        continue;
      }
      const connection = new Connection(
        conn,
        nextId++,
        context,
        limits,
        options.events,
        options.ready ?? Promise.resolve(),
      );
      connections.add(connection);
      changed();
      connection.served.finally(() => {
        connections.delete(connection);
        changed();
      });
    }
  })().catch(() => {/* the listener was closed */});
  return {
    port,
    connectedClients: () => connections.size,
    async publish(channel, message, entry) {
      // All at once: a subscriber whose password check waits must not delay the others.
      await Promise.all(
        [...connections].map((c) => c.push(channel, message, entry).catch(() => c.close())),
      );
    },
    async close() {
      closed = true;
      listener.close();
      await accepting;
      const open = [...connections];
      for (const connection of open) connection.close();
      await Promise.all(open.map((c) => c.served));
    },
  };
}

/** One client's connection. */
class Connection {
  readonly session: Session;
  readonly served: Promise<void>;
  readonly #conn: Deno.Conn;
  readonly #context: EndpointContext;
  readonly #limits: ServerLimits;
  readonly #events: ServerEvents | undefined;
  readonly #ready: Promise<void>;
  #writing: Promise<void> = Promise.resolve();
  #pushing: Promise<void> = Promise.resolve();
  #pendingBytes = 0;
  #closed = false;
  #markClosed = () => {};
  /** Resolves on close: a command waiting for the view must not keep a closed server open. */
  readonly #closing = new Promise<void>((resolve) => this.#markClosed = resolve);

  constructor(
    conn: Deno.Conn,
    id: number,
    context: EndpointContext,
    limits: ServerLimits,
    events: ServerEvents | undefined,
    ready: Promise<void>,
  ) {
    this.#ready = ready;
    this.#conn = conn;
    this.#context = context;
    this.#limits = limits;
    this.#events = events;
    this.session = newSession(id);
    this.served = this.#serve().catch(() => {}).finally(() => this.close());
  }

  async #serve(): Promise<void> {
    const reader = new CommandReader();
    // Small: thousands of idle connections each hold one.
    const buffer = new Uint8Array(4096);
    while (!this.#closed) {
      const read = await this.#conn.read(buffer);
      if (read === null) return;
      reader.feed(buffer.subarray(0, read));
      while (!this.#closed) {
        const limits = this.session.password ? authenticatedLimits : unauthenticatedLimits;
        const next = reader.next(limits);
        if (next.kind === "incomplete") {
          // Before AUTH no command a client needs comes near 16 KB: a stranger's partial
          // frames cannot add up to much over thousands of connections.
          const maxQuery = this.session.password
            ? this.#limits.maxQueryBytes
            : Math.min(this.#limits.maxQueryBytes, unauthenticatedQueryBytes);
          if (reader.pending > maxQuery) {
            await this.#send(
              encodeReply(reply.error("ERR Protocol error: query buffer too big"), 2),
            );
            return;
          }
          break;
        }
        if (next.kind === "protocolError") {
          await this.#send(encodeReply(reply.error(next.message), this.session.protocol));
          return;
        }
        this.#events?.onCommand?.(next.args[0]!.toLowerCase());
        await Promise.race([this.#ready, this.#closing]);
        if (this.#closed) return;
        const replies = await runCommand(next.args, this.session, this.#context);
        // The protocol of the reply is the one in force after the command (HELLO 3 answers in 3).
        await this.#send(replies.map((r) => encodeReply(r, this.session.protocol)).join(""));
        if (this.session.closing) return;
      }
    }
  }

  /** Writes in order; a reply waits for the client to read (it is a request's answer). */
  #send(text: string): Promise<void> {
    const bytes = encoder.encode(text);
    this.#pendingBytes += bytes.length;
    this.#writing = this.#writing.then(async () => {
      let written = 0;
      while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
    }).finally(() => this.#pendingBytes -= bytes.length);
    return this.#writing;
  }

  /** Pushes a published message if the session subscribed to it and may see `entry`. */
  push(channel: string, message: string, entry: SentinelEntry): Promise<void> {
    // One after another: a message whose password check waits on a Secret read must not be
    // overtaken by a later one (clients act on the last +switch-master they get).
    this.#pushing = this.#pushing.then(() => this.#pushNow(channel, message, entry))
      .catch(() => this.close());
    return this.#pushing;
  }

  async #pushNow(channel: string, message: string, entry: SentinelEntry): Promise<void> {
    const session = this.session;
    if (this.#closed) return;
    const patterns = [...session.patterns].filter(([, matched]) => matched.includes(channel))
      .map(([pattern]) => pattern);
    if (!session.channels.has(channel) && !patterns.length) return;
    if (
      entry.protected &&
      !(session.password && await this.#context.passwordMatches(entry.key, session.password))
    ) return;
    const frames = [
      ...(session.channels.has(channel)
        ? [reply.push([reply.bulk("message"), reply.bulk(channel), reply.bulk(message)])]
        : []),
      ...patterns.map((p) =>
        reply.push([
          reply.bulk("pmessage"),
          reply.bulk(p),
          reply.bulk(channel),
          reply.bulk(message),
        ])
      ),
    ];
    const text = frames.map((f) => encodeReply(f, session.protocol)).join("");
    // A subscriber that does not read is dropped, as redis-server drops one over its
    // pub/sub output limit: messages must not pile up in the operator's memory.
    if (this.#pendingBytes + text.length > this.#limits.maxPendingOutputBytes) {
      this.close();
      return;
    }
    this.#events?.onMessagePushed?.(channel);
    this.#send(text).catch(() => this.close());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#markClosed();
    closeQuietly(this.#conn);
  }
}

/**
 * Listens on `hostname`; on `::` (every IPv6 and, dual-stack, every IPv4 address)
 * falls back to `0.0.0.0` where the network has no IPv6.
 */
function listen(hostname: string, port: number): Deno.Listener {
  try {
    return Deno.listen({ hostname, port });
  } catch (error) {
    if (hostname !== "::") throw error;
    return Deno.listen({ hostname: "0.0.0.0", port });
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
