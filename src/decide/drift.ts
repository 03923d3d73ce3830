/**
 * Does a live object still say everything the operator wants it to say?
 * Pure. Fields the server or other managers added are ignored; what the
 * operator set must be there, with the same value, as the server stores it.
 *
 * That last part matters for a pass that finds nothing to change: the server
 * leaves zero values of most fields out (see field_kinds.ts), so a desired
 * `initialDelaySeconds: 0` is never read back. Compared as sent, the object
 * would look drifted on every pass and be applied again and again.
 *
 * @module
 */
import { fnv1a } from "../specs/fnv.ts";
import { type FieldKind, fieldKind } from "./field_kinds.ts";

/**
 * Annotation with a hash of the object the operator last applied. A field the
 * operator stops setting (a `resources` or `nodeSelector` removed from the
 * spec) is no drift to {@linkcode matchesDesired}, which ignores live fields
 * the desired object leaves out; the hash changes, so the object is applied,
 * and server-side apply removes the fields the operator no longer sets.
 */
export const appliedAnnotation = "redis-operator.dev/applied";

/**
 * `desired` with {@linkcode appliedAnnotation}: a hash of everything it says.
 * Compared with {@linkcode matchesDesired}, it is drift whenever the live
 * object was applied from anything else.
 *
 * @example
 * ```ts
 * const before = stampApplied({ metadata: {}, spec: { resources: { requests: { cpu: "1" } } } });
 * console.assert(!matchesDesired(stampApplied({ metadata: {}, spec: {} }), before));
 * ```
 */
export function stampApplied<T extends { metadata?: { annotations?: Record<string, string> } }>(
  desired: T,
): T {
  const text = JSON.stringify(desired);
  // Two seeds: 64 bits, so two different objects practically never share a stamp.
  const hash = fnv1a(text) + fnv1a(text, 0x01000193);
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      annotations: { ...desired.metadata?.annotations, [appliedAnnotation]: hash },
    },
  };
}

/**
 * True when every field of `desired` is in `current` with an equal value, as
 * the API server stores it: objects recursively, arrays element by element
 * with equal length, quantities by their value (`0.1` equals `100m`). A field
 * the server leaves out when it holds a zero value (0, false, "", an empty
 * list or map) matches an absent or null live field, and only such a field:
 * a live value other than the zero is still a change.
 *
 * @example
 * ```ts
 * console.assert(matchesDesired({ a: 1 }, { a: 1, b: 2 }));
 * console.assert(matchesDesired({ probe: { initialDelaySeconds: 0 } }, { probe: {} }));
 * console.assert(!matchesDesired({ probe: { initialDelaySeconds: 0 } }, { probe: { initialDelaySeconds: 5 } }));
 * ```
 */
export function matchesDesired(desired: unknown, current: unknown): boolean {
  return matches(desired, current, "plain");
}

/**
 * Where a value sits: a field of some kind, an entry of a map (of quantities),
 * or an item of a list. Entries and items are stored whatever their value.
 */
type Position = FieldKind | "entry" | "quantityEntry" | "item";

function matches(desired: unknown, current: unknown, at: Position): boolean {
  if (desired === undefined) return true;
  if (current === undefined || current === null) return storedAsAbsent(desired, at);
  if (Array.isArray(desired)) {
    return Array.isArray(current) && current.length === desired.length &&
      desired.every((item, i) => matches(item, current[i], "item"));
  }
  if (desired !== null && typeof desired === "object") {
    if (typeof current !== "object" || Array.isArray(current)) return false;
    const live = current as Record<string, unknown>;
    return Object.entries(desired).every(([key, value]) =>
      matches(value, live[key], within(at, key))
    );
  }
  if (desired === current) return true;
  if (at === "quantity" || at === "quantityEntry") {
    const a = quantityValue(desired);
    return a !== undefined && a === quantityValue(current);
  }
  return false;
}

/** The position of the field or entry `key` of an object at `parent`. */
function within(parent: Position, key: string): Position {
  if (parent === "map") return "entry";
  if (parent === "quantityMap") return "quantityEntry";
  // A Service's selector is a map of labels, a label selector a struct holding one.
  if (parent === "selector" && key !== "matchLabels" && key !== "matchExpressions") return "entry";
  return fieldKind(key);
}

/** Would the server store `desired`, at `at`, as no value at all? */
function storedAsAbsent(desired: unknown, at: Position): boolean {
  if (desired === null) return true;
  // Lists have no presence in protobuf: an empty one comes back nil.
  if (Array.isArray(desired)) return desired.length === 0;
  if (typeof desired === "object") {
    // Maps likewise; an empty struct behind a pointer (`emptyDir: {}`) is kept, and its
    // presence means something.
    return Object.keys(desired).length === 0 &&
      (at === "map" || at === "quantityMap" || at === "selector");
  }
  // omitempty leaves out the zero of a plain field; map entries, list items, pointers and
  // quantities keep it.
  return at === "plain" && (desired === 0 || desired === false || desired === "");
}

/** A quantity as a number: the server stores `0.5` (a number) as `"500m"`. */
function quantityValue(value: unknown): number | undefined {
  if (typeof value === "number") return roundQuantity(value);
  return typeof value === "string" ? parseQuantity(value) : undefined;
}

const suffixes: Record<string, number> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * The value of a Kubernetes resource quantity (`100Mi`, `0.5`, `250m`, `1e3`), or undefined.
 *
 * @example
 * ```ts
 * console.assert(parseQuantity("100m") === parseQuantity("0.1"));
 * ```
 */
export function parseQuantity(text: string): number | undefined {
  const match = text.match(
    /^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/,
  );
  if (!match) return undefined;
  const scale = match[2] !== undefined ? 10 ** Number(match[2]) : suffixes[match[3] ?? ""]!;
  return roundQuantity(Number(match[1]) * scale);
}

/** Rounds away binary floating-point noise (`100 * 1e-3` is not exactly `0.1`). */
function roundQuantity(value: number): number {
  return Number(value.toPrecision(15));
}
