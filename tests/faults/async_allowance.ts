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
 * - writes and compare-and-sets acknowledged there whose value no kept
 *   operation saw are removed (they may have been lost); a compare-and-set
 *   that swapped and is kept saw its expected value, so the write of that
 *   value stays too;
 * - reads completed there are removed (they may have come from the deposed
 *   master), as are compare-and-sets that did not swap (they are reads);
 *   except a read of no value at all of a key with a write acknowledged
 *   before the window opened: no instance that ever had the key serves that,
 *   only one that lost everything (a restarted master answering reads, found
 *   by the control-plane test and fixed), so it stays for the checker.
 *
 * Everything outside the windows, and every write whose value a kept
 * operation saw, stays. If the rest is not linearizable, the anomaly is not one
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
  /**
   * Reads (and compare-and-sets that did not swap) completed in a window, and
   * compare-and-sets from no key that could only have seen a write taken out.
   */
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
  const id = (op: HistoryOp, value: string) => `${op.key}\u0000${value}`;
  // Values seen by operations that stay: those outside every window first; then, until
  // nothing changes, by the swaps inside a window that stay because their own value
  // was seen (each of those saw the value it expected).
  const seen = new Set<string>();
  for (const op of ops) {
    const value = observed(op);
    if (value !== undefined && value !== "" && !windowOf(op)) seen.add(id(op, value));
  }
  // A swap whose value was seen saw its expected value: an acknowledged one that stays (in a
  // window, because its own value was seen), and one of unknown outcome, which the checker
  // keeps. Latest first, so a chain of swaps is followed back in one pass, mostly.
  const swaps = ops.filter((op) =>
    op.kind === "cas" && op.expect && op.value &&
    (op.result === "unknown" || (op.result === "ok" && op.swapped && windowOf(op)))
  ).sort((a, b) => b.done - a.done);
  for (let grew = true; grew;) {
    grew = false;
    for (const op of swaps) {
      if (seen.has(id(op, op.value!)) && !seen.has(id(op, op.expect!))) {
        seen.add(id(op, op.expect!));
        grew = true;
      }
    }
  }
  // When each key first held a value by an acknowledged write.
  const firstWritten = new Map<string, number>();
  for (const op of ops) {
    if (written(op) === undefined) continue;
    firstWritten.set(op.key, Math.min(firstWritten.get(op.key) ?? Infinity, op.done));
  }
  let unobservedWrites = 0;
  let windowReads = 0;
  // When each key's first write taken out was invoked.
  const firstTakenOut = new Map<string, number>();
  const kept = ops.filter((op) => {
    const window = op.result === "ok" ? windowOf(op) : undefined;
    if (!window) return true;
    const value = written(op);
    if (value !== undefined) {
      if (seen.has(id(op, value))) return true;
      unobservedWrites++;
      firstTakenOut.set(op.key, Math.min(firstTakenOut.get(op.key) ?? Infinity, op.invoke));
      return false;
    }
    const readNothing = op.kind === "read" && !op.read;
    if (readNothing && (firstWritten.get(op.key) ?? Infinity) / 1e6 < window.from) return true;
    windowReads++;
    return false;
  });
  const existenceOnly = existenceOnlyCompareAndSets(kept, firstTakenOut);
  return {
    ops: kept.filter((op) => !existenceOnly.has(op)),
    unobservedWrites,
    windowReads: windowReads + existenceOnly.size,
  };
}

/**
 * The compare-and-sets from no key that did not swap (they saw the key
 * exist, and nothing more) where no write of the key left in `kept` could
 * come before them, but one taken out (`firstTakenOut`) could: they saw a
 * write taken out, and left in they would make its trace illegal. A key
 * first written inside a window meets this (the history's keys change every
 * period, so a window that holds a period's start does: the bench's fault mix
 * was called Illegal on four such keys, each on just this first operation).
 */
function existenceOnlyCompareAndSets(
  kept: readonly HistoryOp[],
  firstTakenOut: ReadonlyMap<string, number>,
): Set<HistoryOp> {
  const firstKeptWrite = new Map<string, number>();
  for (const op of kept) {
    const writes = written(op) !== undefined ||
      (op.result === "unknown" && op.kind !== "read");
    if (writes) {
      firstKeptWrite.set(op.key, Math.min(firstKeptWrite.get(op.key) ?? Infinity, op.invoke));
    }
  }
  return new Set(
    kept.filter((op) =>
      op.kind === "cas" && op.result === "ok" && !op.swapped && !op.expect &&
      (firstTakenOut.get(op.key) ?? Infinity) < op.done &&
      (firstKeptWrite.get(op.key) ?? Infinity) >= op.done
    ),
  );
}
