/**
 * SPDY/3 header compression: each direction of a connection is one zlib
 * stream with the SPDY dictionary, flushed (Z_SYNC_FLUSH) after every header
 * block. One instance per connection and direction.
 *
 * @module
 */
import zlib from "node:zlib";
import { Buffer } from "node:buffer";
import { spdyHeaderDictionary } from "./spdy_dictionary.ts";

/** Compresses or decompresses the header blocks of one direction of a connection. */
export class SpdyHeaderCodec {
  readonly #stream: zlib.Inflate | zlib.Deflate;
  #output: Buffer[] = [];
  #failure: Error | undefined;

  constructor(direction: "inflate" | "deflate") {
    const dictionary = Buffer.from(spdyHeaderDictionary);
    this.#stream = direction === "inflate"
      ? zlib.createInflate({ dictionary })
      : zlib.createDeflate({ dictionary });
    this.#stream.on("data", (chunk: Buffer) => this.#output.push(chunk));
    this.#stream.on("error", (error: Error) => this.#failure = error);
  }

  /** Feeds one header block through the stream and returns what came out of it. */
  async transform(block: Uint8Array): Promise<Uint8Array> {
    if (this.#failure) throw this.#failure;
    this.#stream.write(Buffer.from(block));
    await new Promise<void>((resolve) =>
      this.#stream.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve())
    );
    if (this.#failure) throw this.#failure;
    const out = Buffer.concat(this.#output.splice(0));
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  /** Ends the stream. */
  close(): void {
    this.#stream.destroy();
  }
}
