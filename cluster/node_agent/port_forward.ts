/**
 * `kubectl port-forward` as a kubelet serves it: a SPDY/3.1 session (here
 * carried in WebSocket messages, `SPDY/3.1+portforward.k8s.io`) where each
 * forwarded connection is a pair of streams, `error` and `data`, with the same
 * `requestid` and the pod `port` in their headers. The data stream is joined to
 * a TCP connection to that port of the pod; a failure is written on the error
 * stream, which makes kubectl report it.
 *
 * @module
 */
import {
  controlFrame,
  dataFrame,
  decodeHeaderPairs,
  encodeHeaderPairs,
  flagFin,
  frameType,
  goAwayPayload,
  leadingStreamId,
  parseSynStream,
  rstStatus,
  rstStreamPayload,
  type SpdyFrame,
  SpdyFrameReader,
  synReplyPayload,
} from "./spdy_frames.ts";
import { SpdyHeaderCodec } from "./spdy_headers.ts";

interface ForwardStream {
  readonly id: number;
  readonly type: "error" | "data";
  readonly port: number;
  readonly requestId: string;
  connection?: Deno.TcpConn;
  /** Writes to the pod connection, in order. */
  writes: Promise<void>;
}

/** One port-forward session of one pod. */
export class PortForwardSession {
  readonly #podIP: string;
  readonly #send: (bytes: Uint8Array) => void;
  readonly #log: (message: string, fields: Record<string, unknown>) => void;
  readonly #reader = new SpdyFrameReader();
  readonly #inflate = new SpdyHeaderCodec("inflate");
  readonly #deflate = new SpdyHeaderCodec("deflate");
  readonly #streams = new Map<number, ForwardStream>();
  #lastStreamId = 0;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    podIP: string,
    send: (bytes: Uint8Array) => void,
    log: (message: string, fields: Record<string, unknown>) => void,
  ) {
    this.#podIP = podIP;
    this.#send = send;
    this.#log = log;
  }

  /** Takes bytes from the client; frames are handled in order. */
  receive(bytes: Uint8Array): void {
    for (const frame of this.#reader.push(bytes)) {
      this.#queue = this.#queue.then(() => this.#handle(frame)).catch((error) => {
        this.#log("port-forward frame failed", { error: String(error) });
      });
    }
  }

  /** Ends every forwarded connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const stream of this.#streams.values()) closeQuietly(stream.connection);
    this.#streams.clear();
    this.#inflate.close();
    this.#deflate.close();
  }

  #write(bytes: Uint8Array): void {
    if (!this.#closed) this.#send(bytes);
  }

  async #handle(frame: SpdyFrame): Promise<void> {
    if (this.#closed) return;
    if (frame.kind === "data") return this.#onData(frame.streamId, frame.flags, frame.data);
    switch (frame.type) {
      case frameType.synStream:
        return await this.#onSynStream(frame.payload);
      case frameType.rstStream:
        return this.#onReset(leadingStreamId(frame.payload));
      case frameType.ping:
        // Pings from the client carry odd ids; the answer is the same frame.
        return this.#write(controlFrame(frameType.ping, 0, frame.payload));
      case frameType.goAway:
        return this.close();
      case frameType.headers:
        // Header blocks share the connection's zlib stream: keep it in step.
        await this.#inflate.transform(frame.payload.subarray(4));
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE: spdystream uses no flow control.
    }
  }

  async #onSynStream(payload: Uint8Array): Promise<void> {
    const { streamId, headerBlock } = parseSynStream(payload);
    const headers = decodeHeaderPairs(await this.#inflate.transform(headerBlock));
    this.#lastStreamId = Math.max(this.#lastStreamId, streamId);
    const type = headers["streamtype"];
    const port = Number(headers["port"]);
    if (
      (type !== "error" && type !== "data") || !Number.isInteger(port) || port < 1 || port > 65535
    ) {
      this.#log("port-forward stream refused", { headers });
      this.#write(
        controlFrame(frameType.rstStream, 0, rstStreamPayload(streamId, rstStatus.protocolError)),
      );
      return;
    }
    const reply = await this.#deflate.transform(encodeHeaderPairs({}));
    this.#write(controlFrame(frameType.synReply, 0, synReplyPayload(streamId, reply)));
    const stream: ForwardStream = {
      id: streamId,
      type,
      port,
      requestId: headers["requestid"] ?? "",
      writes: Promise.resolve(),
    };
    this.#streams.set(streamId, stream);
    if (type === "data") this.#connect(stream);
  }

  /** Joins a data stream to the pod's port, and copies the pod's bytes back. */
  #connect(stream: ForwardStream): void {
    const opened = Deno.connect({ hostname: this.#podIP, port: stream.port });
    // Writes wait for the connection; a refused one is reported below, not thrown here
    // (an unhandled rejection would end the whole agent).
    stream.writes = opened.then((connection) => {
      stream.connection = connection;
    }, () => {});
    opened.then(async (connection) => {
      try {
        for await (const chunk of connection.readable) {
          this.#write(dataFrame(stream.id, 0, chunk));
        }
      } catch { /* reset by either side */ }
      this.#write(dataFrame(stream.id, flagFin, new Uint8Array()));
      this.#finishErrorStream(stream.requestId);
      stream.writes.then(() => this.#streams.delete(stream.id), () => {});
    }, (error) => {
      this.#fail(stream, `error forwarding port ${stream.port} to pod: ${error}`);
    });
  }

  /** Reports a failure the way kubectl expects: text on the error stream, then resets. */
  #fail(stream: ForwardStream, message: string): void {
    const errorStream = [...this.#streams.values()].find((s) =>
      s.type === "error" && s.requestId === stream.requestId
    );
    if (errorStream) {
      this.#write(dataFrame(errorStream.id, 0, new TextEncoder().encode(message)));
      this.#write(dataFrame(errorStream.id, flagFin, new Uint8Array()));
    }
    this.#write(
      controlFrame(frameType.rstStream, 0, rstStreamPayload(stream.id, rstStatus.cancel)),
    );
    this.#streams.delete(stream.id);
  }

  #finishErrorStream(requestId: string): void {
    for (const stream of this.#streams.values()) {
      if (stream.type === "error" && stream.requestId === requestId) {
        this.#write(dataFrame(stream.id, flagFin, new Uint8Array()));
        this.#streams.delete(stream.id);
      }
    }
  }

  #onData(streamId: number, flags: number, data: Uint8Array): void {
    const stream = this.#streams.get(streamId);
    if (!stream || stream.type !== "data") return;
    const copy = data.slice();
    stream.writes = stream.writes.then(async () => {
      const connection = stream.connection;
      if (!connection) return;
      let written = 0;
      while (written < copy.length) written += await connection.write(copy.subarray(written));
      if (flags & flagFin) await connection.closeWrite();
    }).catch(() => closeQuietly(stream.connection));
  }

  #onReset(streamId: number): void {
    const stream = this.#streams.get(streamId);
    if (!stream) return;
    this.#streams.delete(streamId);
    stream.writes.then(() => closeQuietly(stream.connection), () => {});
  }

  /** The GOAWAY frame to send when the transport closes. */
  goAway(): Uint8Array {
    return controlFrame(frameType.goAway, 0, goAwayPayload(this.#lastStreamId));
  }
}

function closeQuietly(connection: Deno.TcpConn | undefined): void {
  try {
    connection?.close();
  } catch { /* already closed */ }
}
