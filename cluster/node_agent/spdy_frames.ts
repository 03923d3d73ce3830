/**
 * SPDY/3.1 framing, the part kubectl port-forward uses: control frames
 * (SYN_STREAM, SYN_REPLY, RST_STREAM, PING, GOAWAY...) and data frames, read
 * from a byte stream that may split or join frames anywhere. Header blocks
 * stay compressed here; spdy_headers.ts decodes them. Pure.
 *
 * @module
 */

/** Control frame types. */
export const frameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

/** The FIN flag, on data and SYN frames: the sender's half of the stream ends. */
export const flagFin = 0x01;

/** RST_STREAM status codes. */
export const rstStatus = { protocolError: 1, cancel: 5 } as const;

/** One frame as read off the wire. */
export type SpdyFrame =
  | { kind: "control"; type: number; flags: number; payload: Uint8Array }
  | { kind: "data"; streamId: number; flags: number; data: Uint8Array };

/** Collects bytes and hands out whole frames. */
export class SpdyFrameReader {
  #buffer = new Uint8Array(0);

  /** Adds bytes; returns every frame they complete. */
  push(bytes: Uint8Array): SpdyFrame[] {
    const joined = new Uint8Array(this.#buffer.length + bytes.length);
    joined.set(this.#buffer);
    joined.set(bytes, this.#buffer.length);
    const frames: SpdyFrame[] = [];
    let offset = 0;
    while (joined.length - offset >= 8) {
      const view = new DataView(joined.buffer, joined.byteOffset + offset);
      const length = view.getUint32(4) & 0xffffff;
      if (joined.length - offset < 8 + length) break;
      const flags = joined[offset + 4]!;
      const body = joined.slice(offset + 8, offset + 8 + length);
      const first = view.getUint32(0);
      if (first & 0x80000000) {
        frames.push({ kind: "control", type: first & 0xffff, flags, payload: body });
      } else {
        frames.push({ kind: "data", streamId: first & 0x7fffffff, flags, data: body });
      }
      offset += 8 + length;
    }
    this.#buffer = joined.slice(offset);
    return frames;
  }
}

/** A control frame of SPDY version 3. */
export function controlFrame(type: number, flags: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(8 + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, 0x80030000 | type);
  view.setUint32(4, (flags << 24) | payload.length);
  frame.set(payload, 8);
  return frame;
}

/** A data frame. */
export function dataFrame(streamId: number, flags: number, data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(8 + data.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, streamId & 0x7fffffff);
  view.setUint32(4, (flags << 24) | data.length);
  frame.set(data, 8);
  return frame;
}

/** The fixed fields of a SYN_STREAM payload and its compressed header block. */
export function parseSynStream(payload: Uint8Array): { streamId: number; headerBlock: Uint8Array } {
  const view = new DataView(payload.buffer, payload.byteOffset);
  return { streamId: view.getUint32(0) & 0x7fffffff, headerBlock: payload.subarray(10) };
}

/** The stream a RST_STREAM, SYN_REPLY or similar payload starts with. */
export function leadingStreamId(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset).getUint32(0) & 0x7fffffff;
}

/** A SYN_REPLY payload: the stream id, then a compressed header block. */
export function synReplyPayload(streamId: number, headerBlock: Uint8Array): Uint8Array {
  const payload = new Uint8Array(4 + headerBlock.length);
  new DataView(payload.buffer).setUint32(0, streamId & 0x7fffffff);
  payload.set(headerBlock, 4);
  return payload;
}

/** A RST_STREAM payload. */
export function rstStreamPayload(streamId: number, status: number): Uint8Array {
  const payload = new Uint8Array(8);
  const view = new DataView(payload.buffer);
  view.setUint32(0, streamId & 0x7fffffff);
  view.setUint32(4, status);
  return payload;
}

/** A GOAWAY payload: the last stream accepted and status 0 (OK). */
export function goAwayPayload(lastStreamId: number): Uint8Array {
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setUint32(0, lastStreamId & 0x7fffffff);
  return payload;
}

/** Encodes header pairs as a SPDY/3 header block before compression (lower-case names). */
export function encodeHeaderPairs(headers: Record<string, string>): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const u32 = (n: number) => {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, n);
    return bytes;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [name, value] of entries) {
    const n = encoder.encode(name.toLowerCase());
    const v = encoder.encode(value);
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const block = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    block.set(part, offset);
    offset += part.length;
  }
  return block;
}

/** Decodes a decompressed header block; values with several parts are joined by NUL. */
export function decodeHeaderPairs(block: Uint8Array): Record<string, string> {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const decoder = new TextDecoder();
  const headers: Record<string, string> = {};
  let offset = 0;
  const take = () => {
    const length = view.getUint32(offset);
    const bytes = block.subarray(offset + 4, offset + 4 + length);
    offset += 4 + length;
    return decoder.decode(bytes);
  };
  const count = view.getUint32(0);
  offset = 4;
  for (let i = 0; i < count; i++) {
    const name = take().toLowerCase();
    headers[name] = take();
  }
  return headers;
}
