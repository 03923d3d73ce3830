/**
 * A raw RESP client for tests: sends commands as multibulk frames and parses
 * every reply with its exact RESP2/RESP3 type, which client libraries hide.
 *
 * @module
 */

/** A reply with its wire type. */
export type Wire =
  | { type: "simple" | "error" | "bulk" | "verbatim" | "double"; value: string }
  | { type: "int"; value: number }
  | { type: "null" | "nullBulk" | "nullArray" }
  | { type: "array" | "push" | "set"; items: Wire[] }
  | { type: "map"; entries: Array<[Wire, Wire]> };

/** One connection. */
export class RawResp {
  #buffer = new Uint8Array(0);
  private constructor(readonly conn: Deno.Conn) {}

  static async connect(hostname: string, port: number): Promise<RawResp> {
    return new RawResp(await Deno.connect({ hostname, port }));
  }

  /** Sends a command and reads one reply. */
  async call(...args: string[]): Promise<Wire> {
    await this.send(...args);
    return await this.read();
  }

  async send(...args: string[]): Promise<void> {
    const encoder = new TextEncoder();
    const frame = `*${args.length}\r\n` +
      args.map((a) => `$${encoder.encode(a).length}\r\n${a}\r\n`).join("");
    await this.writeRaw(encoder.encode(frame));
  }

  async writeRaw(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  /** Reads one reply (waits for it); throws when the connection closes first. */
  async read(timeoutMs = 5000): Promise<Wire> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const parsed = parse(this.#buffer, 0);
      if (parsed) {
        this.#buffer = this.#buffer.subarray(parsed.next);
        return parsed.value;
      }
      if (Date.now() > deadline) throw new Error("no reply in time");
      const chunk = new Uint8Array(65536);
      const n = await Promise.race([
        this.conn.read(chunk),
        new Promise<"late">((r) => setTimeout(() => r("late"), Math.max(1, deadline - Date.now()))),
      ]);
      if (n === "late") continue;
      if (n === null) throw new Error("connection closed");
      const joined = new Uint8Array(this.#buffer.length + n);
      joined.set(this.#buffer);
      joined.set(chunk.subarray(0, n), this.#buffer.length);
      this.#buffer = joined;
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

const decoder = new TextDecoder();

function parse(buffer: Uint8Array, at: number): { value: Wire; next: number } | undefined {
  const end = buffer.indexOf(0x0a, at);
  if (end < 0) return undefined;
  const line = decoder.decode(buffer.subarray(at + 1, end - 1));
  const next = end + 1;
  const kind = String.fromCharCode(buffer[at]!);
  const aggregate = (count: number, type: "array" | "push" | "set") => {
    const items: Wire[] = [];
    let position = next;
    for (let i = 0; i < count; i++) {
      const item = parse(buffer, position);
      if (!item) return undefined;
      items.push(item.value);
      position = item.next;
    }
    return { value: { type, items } as Wire, next: position };
  };
  switch (kind) {
    case "+":
      return { value: { type: "simple", value: line }, next };
    case "-":
      return { value: { type: "error", value: line }, next };
    case ":":
      return { value: { type: "int", value: Number(line) }, next };
    case ",":
      return { value: { type: "double", value: line }, next };
    case "_":
      return { value: { type: "null" }, next };
    case "$":
    case "=": {
      const length = Number(line);
      if (length < 0) return { value: { type: "nullBulk" }, next };
      if (buffer.length < next + length + 2) return undefined;
      const value = decoder.decode(buffer.subarray(next, next + length));
      return {
        value: { type: kind === "$" ? "bulk" : "verbatim", value },
        next: next + length + 2,
      };
    }
    case "*":
      return Number(line) < 0
        ? { value: { type: "nullArray" }, next }
        : aggregate(Number(line), "array");
    case ">":
      return aggregate(Number(line), "push");
    case "~":
      return aggregate(Number(line), "set");
    case "%": {
      const flat = aggregate(Number(line) * 2, "array");
      if (!flat || flat.value.type !== "array") return undefined;
      const entries: Array<[Wire, Wire]> = [];
      for (let i = 0; i < flat.value.items.length; i += 2) {
        entries.push([flat.value.items[i]!, flat.value.items[i + 1]!]);
      }
      return { value: { type: "map", entries }, next: flat.next };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(kind)}`);
  }
}

/**
 * The shape of a reply: types, lengths, map keys and error texts, without the
 * values that differ between two servers (addresses, IDs, times).
 */
export function shapeOf(wire: Wire): unknown {
  switch (wire.type) {
    case "error":
      return { error: wire.value };
    case "array":
    case "push":
    case "set":
      return { [wire.type]: wire.items.map(shapeOf) };
    case "map":
      return {
        map: wire.entries.map(([k, v]) => [
          "value" in k ? k.value : shapeOf(k),
          shapeOf(v),
        ]),
      };
    default:
      return wire.type;
  }
}
