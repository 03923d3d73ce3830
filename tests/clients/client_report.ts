/**
 * Reads what the application writers print (`ok <n> <ms>` and
 * `err <n> <ms> <message>`) and says what an application saw during a fault:
 * the longest time it could not write, and its errors by kind. Pure.
 *
 * @module
 */

/** One write as an application saw it. */
export interface WriteEvent {
  readonly ok: boolean;
  readonly n: number;
  readonly at: number;
  readonly message?: string;
}

/** The kinds of error the report counts. */
export type ErrorKind =
  | "refused"
  | "reset"
  | "READONLY"
  | "NOREPLICAS"
  | "timeout"
  | "dns"
  | "other";

/** Parses a writer's output; lines that are not events are skipped. */
export function parseWriterOutput(text: string): WriteEvent[] {
  const events: WriteEvent[] = [];
  for (const line of text.split("\n")) {
    const match = line.match(/^(ok|err) (\d+) (\d+)(?: (.*))?$/);
    if (!match) continue;
    const event = { ok: match[1] === "ok", n: Number(match[2]), at: Number(match[3]) };
    events.push(match[4] === undefined ? event : { ...event, message: match[4] });
  }
  return events;
}

/** Sorts an error message of any of the three libraries into a kind. */
export function errorKind(message: string): ErrorKind {
  // redis-py drops the error code from the message and names the class instead.
  if (/READONLY|ReadOnlyError|read only replica/.test(message)) return "READONLY";
  // A fenced master (min-replicas-to-write out of reach) refuses writes this way.
  if (/NOREPLICAS|Not enough good replicas/.test(message)) return "NOREPLICAS";
  if (/refused/i.test(message)) return "refused";
  if (/timed? ?out|timeout|deadline/i.test(message)) return "timeout";
  if (/reset|closed|EOF|broken pipe|Connection lost|ended|EPIPE/i.test(message)) return "reset";
  if (/resolve|getaddrinfo|Name or service|no such host|ENOTFOUND|EAI_AGAIN/i.test(message)) {
    return "dns";
  }
  return "other";
}

/** What an application saw in one window of time. */
export interface WindowReport {
  /** The longest time between two acknowledged writes that spans the window's start. */
  readonly longestPauseMs: number;
  readonly errors: Partial<Record<ErrorKind, number>>;
  /** Whether any write was acknowledged after the window started. */
  readonly resumed: boolean;
}

/**
 * The report for a fault at `from`, looking until `to`: the longest gap between
 * consecutive acknowledged writes among those completing in [from, to] (counting
 * from the last acknowledgement before `from`, and until `to` after the last
 * one), and the errors in that time.
 */
export function reportWindow(
  events: readonly WriteEvent[],
  from: number,
  to: number,
): WindowReport {
  const acks = events.filter((e) => e.ok).map((e) => e.at);
  const before = acks.filter((at) => at < from).at(-1) ?? from;
  const inside = acks.filter((at) => at >= from && at <= to);
  let longest = 0;
  let previous = before;
  for (const at of inside) {
    longest = Math.max(longest, at - previous);
    previous = at;
  }
  // Silence until the window's end counts too: a writer stuck on a dead connection
  // acknowledges nothing more after its last write.
  longest = Math.max(longest, to - previous);
  const errors: Partial<Record<ErrorKind, number>> = {};
  for (const event of events) {
    if (event.ok || event.at < from || event.at > to) continue;
    const kind = errorKind(event.message ?? "");
    errors[kind] = (errors[kind] ?? 0) + 1;
  }
  return { longestPauseMs: longest, errors, resumed: inside.length > 0 };
}

/** One message of each kind of error a writer saw, so "other" can be read, not guessed. */
export function errorSamples(label: string, events: readonly WriteEvent[]): string[] {
  const byKind = new Map<string, string>();
  for (const e of events) {
    if (!e.ok) byKind.set(errorKind(e.message ?? ""), (e.message ?? "").slice(0, 160));
  }
  return [...byKind].map(([kind, message]) => `  ${label} ${kind}: ${message}`);
}

/** Error counts as a table cell: "READONLY 3, refused 1", or "none". */
export function errorCounts(report: WindowReport): string {
  return Object.entries(report.errors).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
}

/** A measured table (markdown) followed by one error message of each kind. */
export function renderTable(
  title: string,
  columns: readonly string[],
  rows: readonly string[],
  samples: readonly string[],
): string {
  return [
    title,
    `| ${columns.join(" | ")} |`,
    `|${columns.map(() => "---").join("|")}|`,
    ...rows,
    "errors seen, one of each kind:",
    ...samples,
  ].join("\n");
}
