/**
 * Does a live object still say everything the operator wants it to say?
 * Pure. Fields the server or other managers added are ignored; what the
 * operator set must be there, with the same value.
 *
 * @module
 */

/**
 * True when every field of `desired` is present in `current` with an equal
 * value: objects recursively, arrays element by element with equal length,
 * resource quantities by their value (`0.1` equals `100m`).
 *
 * @example
 * ```ts
 * console.assert(matchesDesired({ a: 1 }, { a: 1, b: 2 }));
 * ```
 */
export function matchesDesired(desired: unknown, current: unknown): boolean {
  if (desired === undefined) return true;
  if (Array.isArray(desired)) {
    return Array.isArray(current) && current.length === desired.length &&
      desired.every((item, i) => matchesDesired(item, current[i]));
  }
  if (desired !== null && typeof desired === "object") {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return false;
    const live = current as Record<string, unknown>;
    return Object.entries(desired).every(([key, value]) => matchesDesired(value, live[key]));
  }
  if (desired === current) return true;
  if (typeof desired === "string" && typeof current === "string") {
    const a = parseQuantity(desired);
    const b = parseQuantity(current);
    return a !== undefined && a === b;
  }
  return false;
}

const suffixes: Record<string, number> = {
  "": 1,
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

/** The value of a Kubernetes resource quantity (`100Mi`, `0.5`, `250m`), or undefined. */
export function parseQuantity(text: string): number | undefined {
  const match = text.match(/^([+-]?\d+(?:\.\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * suffixes[match[2] ?? ""]! * 1e6) / 1e6;
}
