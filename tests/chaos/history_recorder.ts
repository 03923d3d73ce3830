/**
 * Runs the history tool (tests/history) in an application pod's network
 * namespace against a Service name, keeps what it records in a file, and
 * asks Porcupine for the verdict (issue 12). A history Porcupine refuses is
 * kept with its visualisation under {@linkcode artifactsDir}.
 *
 * @module
 */
import { Redis } from "ioredis";
import { inNetnsWithResolvConf } from "../../cluster/lib/netns.ts";
import { jsonLines } from "../../src/kube/watch.ts";
import type { AppPod } from "./app_writers.ts";
import { within } from "./within.ts";

/** Where refused histories and their visualisations are kept. */
export const artifactsDir = Deno.env.get("REDIS_OPERATOR_ARTIFACTS") ??
  "/tmp/redis-operator-artifacts";

/** Porcupine's verdict and the counts of a history. */
export interface Verdict {
  readonly result: "Ok" | "Illegal" | "Unknown";
  readonly operations: number;
  /** "read ok", "write unknown", "cas fail"... */
  readonly counts: Record<string, number>;
  readonly illegalKeys?: string[];
  readonly html?: string;
  /** Why the result is Unknown when the checker gave up (its memory bound). */
  readonly note?: string;
}

/** One recorded operation (a line of the history). */
export interface HistoryOp {
  readonly client: number;
  readonly kind: "read" | "write" | "cas";
  readonly key: string;
  readonly value?: string;
  /** The value a compare-and-set expects ("" for no key). */
  readonly expect?: string;
  /** ns since the epoch. */
  readonly invoke: number;
  readonly done: number;
  readonly result: "ok" | "fail" | "unknown";
  readonly read?: string;
  /** Whether a compare-and-set swapped. */
  readonly swapped?: boolean;
  readonly error?: string;
}

/** What a recorder runs: its clients, its keys, and optionally their rotation and pace. */
export interface RecorderOptions {
  /** Concurrent clients, each with its own connection (5 by default). */
  readonly clients?: number;
  /** Keys in use at a time (5 by default). */
  readonly keys?: number;
  /**
   * New keys every this many seconds (`h:<period>:<k>`), so no key's history
   * outgrows Porcupine however long the recording runs; none by default (`h:<k>`).
   */
  readonly rotateSeconds?: number;
  /** At most this many operations a second per client; unpaced by default. */
  readonly ratePerClient?: number;
}

/** A running recorder: `clients` clients on `keys` keys through `address`. */
export class HistoryRecorder {
  readonly #child: Deno.ChildProcess;
  readonly #file: string;
  readonly #writing: Promise<void>;

  constructor(
    tool: string,
    app: AppPod,
    address: string,
    file: string,
    { clients = 5, keys = 5, rotateSeconds, ratePerClient }: RecorderOptions = {},
  ) {
    this.#file = file;
    this.#child = new Deno.Command("nsenter", {
      args: inNetnsWithResolvConf(app.netns, app.resolvConf, [
        tool,
        "record",
        address,
        String(clients),
        String(keys),
        ...(rotateSeconds ? [`rotate=${rotateSeconds}`] : []),
        ...(ratePerClient ? [`rate=${ratePerClient}`] : []),
      ]),
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#writing = Deno.open(file, { write: true, create: true, truncate: true }).then((out) =>
      this.#child.stdout.pipeTo(out.writable)
    );
  }

  /**
   * Stops the clients (each finishes its operation, 2 s at most) and waits for
   * the last line; a stage that does not end says which it is.
   */
  async stop(): Promise<HistoryOp[]> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already gone */ }
    await within("the history tool's exit after SIGTERM", stopStageMs, this.#child.status, () => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* already gone */ }
    });
    await within("the end of the history tool's output", stopStageMs, this.#writing);
    return await readHistory(this.#file);
  }
}

/** How long each stage of stopping a recorder may take. */
const stopStageMs = 15_000;

/** The operations of a history file. */
export async function readHistory(file: string): Promise<HistoryOp[]> {
  // Line by line: a long outage's history can be larger than one string may be.
  const ops: HistoryOp[] = [];
  using handle = await Deno.open(file);
  for await (const line of jsonLines(handle.readable)) ops.push(JSON.parse(line));
  return ops;
}

/** Writes `ops` as a history file, one JSON line each, in chunks of bounded size. */
export async function writeHistory(file: string, ops: readonly HistoryOp[]): Promise<void> {
  using handle = await Deno.open(file, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  for (let i = 0; i < ops.length; i += 10_000) {
    const chunk = ops.slice(i, i + 10_000).map((op) => JSON.stringify(op) + "\n").join("");
    const bytes = encoder.encode(chunk);
    for (let written = 0; written < bytes.length;) {
      written += await handle.write(bytes.subarray(written));
    }
  }
}

/**
 * Porcupine's verdict on `file`; when it is not Ok, the history and its
 * visualisation are kept under {@linkcode artifactsDir}/`name`.
 */
export async function checkHistory(tool: string, file: string, name: string): Promise<Verdict> {
  const kept = `${artifactsDir}/${name}`;
  await Deno.mkdir(kept, { recursive: true });
  const output = await new Deno.Command(tool, {
    args: ["check", file, `${kept}/history.html`],
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  const verdict: Verdict = JSON.parse(new TextDecoder().decode(output.stdout));
  if (verdict.result === "Ok") await Deno.remove(kept, { recursive: true });
  else await Deno.copyFile(file, `${kept}/history.jsonl`);
  return verdict;
}

/** Every key `ops` worked on, in the order first seen. */
export function historyKeys(ops: readonly HistoryOp[]): string[] {
  return [...new Set(ops.map((op) => op.key))];
}

/**
 * Reads the final value of every key in `keys` from the master at `masterIP`
 * and appends the reads as client `client`, after every other, so a lost write
 * shows as illegal.
 */
export async function appendFinalReads(
  file: string,
  masterIP: string,
  keys: readonly string[],
  client: number,
): Promise<void> {
  const finalValues: Record<string, string> = {};
  const reader = new Redis({ host: masterIP, port: 6379, lazyConnect: true });
  try {
    await reader.connect();
    // In chunks: a rotating recorder leaves thousands of keys.
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const values = await reader.mget(...chunk);
      chunk.forEach((key, j) => finalValues[key] = values[j] ?? "");
    }
  } finally {
    reader.disconnect();
  }
  const now = Date.now() * 1e6;
  const lines = Object.entries(finalValues).map(([key, read], i) =>
    JSON.stringify({
      client,
      kind: "read",
      key,
      invoke: now + 2 * i,
      done: now + 2 * i + 1,
      result: "ok",
      ...(read ? { read } : {}),
    })
  );
  await Deno.writeTextFile(file, lines.join("\n") + "\n", { append: true });
}
