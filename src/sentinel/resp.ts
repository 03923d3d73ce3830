/**
 * RESP, the Redis protocol, as far as a Sentinel endpoint needs it: a bounded
 * incremental reader of commands (multibulk and inline, as redis-server reads
 * them) and a writer of RESP2 and RESP3 replies. Pure: bytes in, values out.
 *
 * @module
 */

/** A reply value; RESP2 writes a map as a flat array and a push as an array. */
export type Reply =
  | { readonly t: "simple"; readonly s: string }
  | { readonly t: "error"; readonly s: string }
  | { readonly t: "int"; readonly n: number }
  | { readonly t: "bulk"; readonly s: string }
  | { readonly t: "nullBulk" }
  | { readonly t: "nullArray" }
  | { readonly t: "array"; readonly items: readonly Reply[] }
  | { readonly t: "map"; readonly entries: ReadonlyArray<readonly [string, Reply]> }
  | { readonly t: "push"; readonly items: readonly Reply[] };

/** Reply constructors, so handlers read like the replies they build. */
export const reply = {
  ok: { t: "simple", s: "OK" } as Reply,
  simple: (s: string): Reply => ({ t: "simple", s }),
  error: (s: string): Reply => ({ t: "error", s }),
  int: (n: number): Reply => ({ t: "int", n }),
  bulk: (s: string): Reply => ({ t: "bulk", s }),
  nullBulk: { t: "nullBulk" } as Reply,
  nullArray: { t: "nullArray" } as Reply,
  array: (items: readonly Reply[]): Reply => ({ t: "array", items }),
  bulks: (items: readonly string[]): Reply => ({ t: "array", items: items.map(reply.bulk) }),
  map: (entries: ReadonlyArray<readonly [string, Reply]>): Reply => ({ t: "map", entries }),
  push: (items: readonly Reply[]): Reply => ({ t: "push", items }),
};

/** Writes `value` in RESP `protocol` 2 or 3. */
export function encodeReply(value: Reply, protocol: 2 | 3): string {
  switch (value.t) {
    case "simple":
      return `+${oneLine(value.s)}\r\n`;
    case "error":
      return `-${oneLine(value.s)}\r\n`;
    case "int":
      return `:${value.n}\r\n`;
    case "bulk":
      return `$${utf8Length(value.s)}\r\n${value.s}\r\n`;
    case "nullBulk":
      return protocol === 3 ? "_\r\n" : "$-1\r\n";
    case "nullArray":
      return protocol === 3 ? "_\r\n" : "*-1\r\n";
    case "array":
      return `*${value.items.length}\r\n${
        value.items.map((i) => encodeReply(i, protocol)).join("")
      }`;
    case "push":
      return `${protocol === 3 ? ">" : "*"}${value.items.length}\r\n${
        value.items.map((i) => encodeReply(i, protocol)).join("")
      }`;
    case "map": {
      const body = value.entries.map(([k, v]) =>
        encodeReply(reply.bulk(k), protocol) + encodeReply(v, protocol)
      ).join("");
      return protocol === 3
        ? `%${value.entries.length}\r\n${body}`
        : `*${value.entries.length * 2}\r\n${body}`;
    }
  }
}

/** Simple strings and errors are one line: a newline in a message would break the frame. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}

const encoder = new TextEncoder();
function utf8Length(text: string): number {
  // Most replies are ASCII: skip the encoding for them.
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return encoder.encode(text).length;
  }
  return text.length;
}

/** Limits of the reader; an unauthenticated client gets Redis's own, smaller ones. */
export interface ReadLimits {
  /** Longest inline command line, and longest unfinished frame header. */
  readonly maxInline: number;
  /** Most arguments in one multibulk command. */
  readonly maxArgs: number;
  /** Longest single argument. */
  readonly maxBulk: number;
}

/** Limits for clients that have not authenticated (redis-server: 10 arguments, 16 KB each). */
export const unauthenticatedLimits: ReadLimits = {
  maxInline: 64 * 1024,
  maxArgs: 10,
  maxBulk: 16384,
};
/** Limits once authenticated: a discovery endpoint never needs more. */
export const authenticatedLimits: ReadLimits = {
  maxInline: 64 * 1024,
  maxArgs: 1024,
  maxBulk: 64 * 1024,
};

/** What one step of the reader found. */
export type ReadResult =
  | { readonly kind: "command"; readonly args: string[] }
  | { readonly kind: "incomplete" }
  | { readonly kind: "protocolError"; readonly message: string };

/**
 * Incremental command reader. Feed it bytes as they arrive, then take
 * commands until it says `incomplete`. A protocol error is final: redis-server
 * replies with it and closes the connection, and so does the endpoint.
 */
export class CommandReader {
  /** Received bytes are `#storage[0, #end)`; commands before `#offset` are read. */
  #storage = new Uint8Array(0);
  #end = 0;
  #offset = 0;
  /**
   * The buffer length the unfinished frame needs at least (a bulk's announced
   * size): until it has arrived, nothing is parsed again, so a big frame in
   * small chunks costs linear time, not quadratic.
   */
  #needed = 0;

  get #buffer(): Uint8Array {
    return this.#storage.subarray(0, this.#end);
  }

  /** Bytes received and not yet read as commands. */
  get pending(): number {
    return this.#end - this.#offset;
  }

  /** Appends received bytes (the storage grows by doubling, so appends are cheap). */
  feed(chunk: Uint8Array): void {
    const rest = this.#end - this.#offset;
    if (this.#offset > 0) {
      this.#storage.copyWithin(0, this.#offset, this.#end);
      this.#needed -= this.#offset;
      this.#offset = 0;
      this.#end = rest;
    }
    if (rest === 0 && this.#storage.length > 64 * 1024) {
      // A big frame has been read: an idle connection keeps no big buffer.
      this.#storage = new Uint8Array(0);
    }
    if (rest + chunk.length > this.#storage.length) {
      const grown = new Uint8Array(Math.max(rest + chunk.length, this.#storage.length * 2, 4096));
      grown.set(this.#storage.subarray(0, rest));
      this.#storage = grown;
    }
    this.#storage.set(chunk, rest);
    this.#end = rest + chunk.length;
  }

  /** The next complete command, if the buffer holds one. */
  next(limits: ReadLimits): ReadResult {
    if (this.#end < this.#needed) return { kind: "incomplete" };
    // Empty lines and `*0` frames are skipped, as redis-server does, in a loop: thousands
    // of them must not grow the stack.
    while (true) {
      const result = this.#nextFrame(limits);
      if (result !== "skip") return result;
    }
  }

  #nextFrame(limits: ReadLimits): ReadResult | "skip" {
    const buffer = this.#buffer;
    let at = this.#offset;
    if (at >= buffer.length) return { kind: "incomplete" };
    if (buffer[at] !== 0x2a /* '*' */) return this.#inline(limits);
    const header = readLine(buffer, at + 1, limits.maxInline);
    if (header === "tooLong") return protocolError("too big mbulk count string");
    if (header === undefined) return { kind: "incomplete" };
    const count = readLength(header.text, limits.maxArgs, limits, "multibulk");
    if (typeof count !== "number") return count;
    at = header.next;
    const args: string[] = [];
    for (let i = 0; i < count; i++) {
      if (at >= buffer.length) return { kind: "incomplete" };
      if (buffer[at] !== 0x24 /* '$' */) {
        return protocolError(`expected '$', got '${String.fromCharCode(buffer[at]!)}'`);
      }
      const line = readLine(buffer, at + 1, limits.maxInline);
      if (line === "tooLong") return protocolError("too big bulk count string");
      if (line === undefined) return { kind: "incomplete" };
      const length = readLength(line.text, limits.maxBulk, limits, "bulk");
      if (typeof length !== "number") return length;
      if (buffer.length < line.next + length + 2) {
        this.#needed = line.next + length + 2;
        return { kind: "incomplete" };
      }
      args.push(decoder.decode(buffer.subarray(line.next, line.next + length)));
      at = line.next + length + 2;
    }
    this.#offset = at;
    return count === 0 ? "skip" : { kind: "command", args };
  }

  #inline(limits: ReadLimits): ReadResult | "skip" {
    const line = readLine(this.#buffer, this.#offset, limits.maxInline);
    if (line === "tooLong") return protocolError("too big inline request");
    if (line === undefined) return { kind: "incomplete" };
    this.#offset = line.next;
    const args = splitInline(line.text);
    if (args === undefined) return protocolError("unbalanced quotes in request");
    if (args.length === 0) return "skip";
    if (args.length > limits.maxArgs) return protocolError("invalid multibulk length");
    return { kind: "command", args };
  }
}

const decoder = new TextDecoder();

/**
 * A frame's argument count or an argument's length, or the error for one that
 * is not a number or over its limit, in redis-server's words (which say when
 * the limit is the unauthenticated one).
 */
function readLength(
  text: string,
  max: number,
  limits: ReadLimits,
  what: "multibulk" | "bulk",
): number | ReadResult {
  const value = parseInteger(text);
  if (value !== undefined && value <= max) return value;
  return protocolError(
    value !== undefined && limits === unauthenticatedLimits
      ? `unauthenticated ${what} length`
      : `invalid ${what} length`,
  );
}

function protocolError(what: string): ReadResult {
  return { kind: "protocolError", message: `ERR Protocol error: ${what}` };
}

/** The line starting at `from` (without its \r\n, or a lone \n for inline commands). */
function readLine(
  buffer: Uint8Array,
  from: number,
  maxLength: number,
): { text: string; next: number } | "tooLong" | undefined {
  const end = buffer.indexOf(0x0a, from);
  if (end < 0) return buffer.length - from > maxLength ? "tooLong" : undefined;
  if (end - from > maxLength) return "tooLong";
  const stop = end > from && buffer[end - 1] === 0x0d ? end - 1 : end;
  return { text: decoder.decode(buffer.subarray(from, stop)), next: end + 1 };
}

function parseInteger(text: string): number | undefined {
  return /^-?\d{1,15}$/.test(text) && Number(text) >= 0 ? Number(text) : undefined;
}

/**
 * Splits an inline command the way redis-server does (sdssplitargs): spaces
 * separate, double quotes take \n, \t, \xHH escapes, single quotes only \'.
 * Undefined for unbalanced quotes.
 */
export function splitInline(line: string): string[] | undefined {
  const args: string[] = [];
  let i = 0;
  while (true) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) return args;
    let current = "";
    let quote: '"' | "'" | undefined;
    let done = false;
    while (!done) {
      const c = line[i];
      if (quote === '"') {
        if (c === undefined) return undefined;
        if (
          c === "\\" && line[i + 1] === "x" && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))
        ) {
          current += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === "\\" && line[i + 1] !== undefined) {
          const escaped = line[++i]!;
          current += { n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" }[escaped] ?? escaped;
        } else if (c === '"') {
          // A closing quote must be followed by a space or the end.
          if (line[i + 1] !== undefined && !/\s/.test(line[i + 1]!)) return undefined;
          done = true;
        } else current += c;
      } else if (quote === "'") {
        if (c === undefined) return undefined;
        if (c === "\\" && line[i + 1] === "'") {
          current += "'";
          i++;
        } else if (c === "'") {
          if (line[i + 1] !== undefined && !/\s/.test(line[i + 1]!)) return undefined;
          done = true;
        } else current += c;
      } else if (c === undefined || /\s/.test(c)) {
        done = true;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else current += c;
      i++;
    }
    args.push(current);
  }
}
