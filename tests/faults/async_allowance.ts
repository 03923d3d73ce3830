/**
 * What asynchronous replication allows around an unplanned failover, taken
 * out of a history before it is checked again (issue 12). Pure.
 *
 * A master that dies or is cut off may have acknowledged writes it had not yet
 * sent to any replica (lost when a replica takes over), and while it is cut
 * off it may answer reads from data the new master has moved past (fencing
 * bounds writes, not reads). Porcupine rightly calls such histories illegal.
 * To tell these anomalies from any other, every failover gets a window (from
 * the fencing bound before the fault to the fencing bound after it), and
 * within it:
 * - writes and compare-and-sets acknowledged there whose value nothing read
 *   after the window are removed (they may have been lost);
 * - reads completed there are removed (they may have come from the deposed
 *   master), as are compare-and-sets that did not swap (they are reads).
 *
 * Everything outside the windows, and every write whose value was seen after
 * its window, stays. If the rest is not linearizable, the anomaly is not one
 * asynchronous replication explains: a bug.
 *
 * @module
 */
import type { HistoryOp } from "../chaos/history_recorder.ts";

/** A window around one failover, in ms since the epoch. */
export interface LossWindow {
  readonly from: number;
  readonly to: number;
}

/** The history without what the windows allow, and what was taken out. */
export interface Allowance {
  readonly ops: HistoryOp[];
  /** Acknowledged writes (and swaps) in a window that nothing read afterwards: lost, or overwritten unseen. */
  readonly unobservedWrites: number;
  /** Reads (and compare-and-sets that did not swap) completed in a window. */
  readonly windowReads: number;
}

/** The value an operation shows it saw at `done`, if it shows one. */
function observed(op: HistoryOp): string | undefined {
  if (op.result !== "ok") return undefined;
  if (op.kind === "read") return op.read ?? "";
  if (op.kind === "cas" && op.swapped) return op.expect ?? "";
  return undefined;
}

/** The value an acknowledged operation left in its key, if it wrote one. */
function written(op: HistoryOp): string | undefined {
  if (op.result !== "ok") return undefined;
  if (op.kind === "write") return op.value;
  if (op.kind === "cas" && op.swapped) return op.value;
  return undefined;
}

/** Takes out of `ops` what asynchronous replication allows around the `windows`. */
export function allowAsyncLoss(
  ops: readonly HistoryOp[],
  windows: readonly LossWindow[],
): Allowance {
  const windowOf = (op: HistoryOp) =>
    windows.find((w) => op.done / 1e6 >= w.from && op.done / 1e6 <= w.to);
  // The last time each key's value was seen, by value (values are unique per write).
  const lastSeen = new Map<string, number>();
  for (const op of ops) {
    const value = observed(op);
    if (value === undefined || value === "") continue;
    const at = op.done / 1e6;
    const id = `${op.key}\u0000${value}`;
    if ((lastSeen.get(id) ?? -Infinity) < at) lastSeen.set(id, at);
  }
  let unobservedWrites = 0;
  let windowReads = 0;
  const kept = ops.filter((op) => {
    if (op.result !== "ok") return true;
    const window = windowOf(op);
    if (!window) return true;
    const value = written(op);
    if (value !== undefined) {
      if ((lastSeen.get(`${op.key}\u0000${value}`) ?? -Infinity) > window.to) return true;
      unobservedWrites++;
      return false;
    }
    windowReads++;
    return false;
  });
  return { ops: kept, unobservedWrites, windowReads };
}
