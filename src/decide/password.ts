/**
 * Password rotation without restarting a pod. Pure.
 *
 * The operator's copy of the password Secret is what pods start with. When
 * the user's Secret changes, every running instance first learns to accept
 * the new password next to the old one and to use it towards its master
 * ("Add"); the copy then records both, so a pod restarting in between still
 * matches. Once every instance has it, each keeps only the new password
 * ("Finish") and the copy forgets the old one. Replication never sees a
 * password its peer refuses, and no master has to move.
 *
 * @module
 */

/** What the operator's Secret copy holds. */
export interface StoredPasswords {
  readonly password: string;
  /** The password being rotated away, while some instance may still be asked for it. */
  readonly previous?: string;
}

/** The next step of a rotation. */
export type PasswordRotation =
  | { readonly kind: "None" }
  | { readonly kind: "Add"; readonly password: string; readonly previous: string }
  | { readonly kind: "Finish"; readonly password: string; readonly previous: string };

/**
 * The step for the user's `wanted` password and the copy's `stored` ones.
 * No copy yet, or no password wanted: nothing to rotate (the copy is created
 * with the wanted password).
 */
export function decidePasswordRotation(
  wanted: string | undefined,
  stored: StoredPasswords | undefined,
): PasswordRotation {
  if (wanted === undefined || stored === undefined) return { kind: "None" };
  if (stored.password !== wanted) {
    return { kind: "Add", password: wanted, previous: stored.password };
  }
  if (stored.previous !== undefined) {
    return { kind: "Finish", password: wanted, previous: stored.previous };
  }
  return { kind: "None" };
}

/** The passwords an instance may hold during a rotation, the wanted one first. */
export function candidatePasswords(
  wanted: string | undefined,
  stored: StoredPasswords | undefined,
): string[] {
  const all = [wanted, stored?.password, stored?.previous].filter((p): p is string =>
    p !== undefined
  );
  return [...new Set(all)];
}

/** What the copy records once a step has been carried out on every instance. */
export function storedAfter(step: Exclude<PasswordRotation, { kind: "None" }>): StoredPasswords {
  return step.kind === "Add"
    ? { password: step.password, previous: step.previous }
    : { password: step.password };
}
