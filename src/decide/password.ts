/**
 * Changing the password without restarting a pod: rotating it, adding one to
 * a Redis that had none, or removing it. Pure.
 *
 * The operator's copy of the password Secret is what pods start with; `""`
 * stands for "no password" (the copy then has no password key). When the
 * user's Secret changes, or `spec.password` is added or removed, every
 * running instance takes the "Add" step, the copy records the new password
 * with the previous one, then every instance takes the "Finish" step and the
 * copy forgets the previous one. A pod restarting in between starts with the
 * new password and still matches.
 *
 * How each step keeps replication working: while a password is added or
 * removed, instances authenticate to their master as user `default`
 * (`masteruser default`), since `AUTH default <any>` succeeds against a
 * master with no password; Finish returns to the plain `AUTH <password>`,
 * which such a master refuses. A replica that reconnects at any moment is
 * accepted:
 * - rotation: Add accepts the new password next to the old one and uses it
 *   towards the master; Finish keeps only the new one;
 * - adding: Add uses the new password towards the master, then requires it
 *   (clients without it are refused from then on: that is what was asked);
 * - removing: Add drops the password (any client is accepted) while replicas
 *   still send the old one; Finish stops sending it.
 *
 * @module
 */

/** What the operator's Secret copy holds; `""` is "no password". */
export interface StoredPasswords {
  readonly password: string;
  /** The password being changed away from, while some instance may still hold it. */
  readonly previous?: string;
}

/** The next step of a change of password; `""` is "no password". */
export type PasswordRotation =
  | { readonly kind: "None" }
  | { readonly kind: "Add"; readonly password: string; readonly previous: string }
  | { readonly kind: "Finish"; readonly password: string; readonly previous: string };

/**
 * The step for the user's `wanted` password (`""` for none) and the copy's
 * `stored` ones.
 *
 * @example
 * ```ts
 * const step = decidePasswordRotation("new", { password: "" });
 * console.assert(step.kind === "Add");
 * ```
 */
export function decidePasswordRotation(
  wanted: string,
  stored: StoredPasswords,
): PasswordRotation {
  if (stored.password !== wanted) {
    return { kind: "Add", password: wanted, previous: stored.password };
  }
  if (stored.previous !== undefined) {
    return { kind: "Finish", password: wanted, previous: stored.previous };
  }
  return { kind: "None" };
}

/**
 * What the copy should say before anything is rotated. A copy that exists
 * says it; without one, the pods (if any) started with no password; a Redis
 * whose pods do not exist yet starts with the wanted password at once, so a
 * new password-protected Redis is never open.
 */
export function initialPasswords(
  wanted: string,
  copy: StoredPasswords | undefined,
  podsExist: boolean,
): StoredPasswords {
  return copy ?? { password: podsExist ? "" : wanted };
}

/** The passwords an instance may hold during a change, the wanted one first; `""` is none. */
export function candidatePasswords(
  wanted: string | undefined,
  stored: StoredPasswords | undefined,
): string[] {
  const all = [wanted, stored?.password, stored?.previous].filter((p): p is string =>
    p !== undefined
  );
  return [...new Set(all.length ? all : [""])];
}

/** What the copy records once a step has been carried out on every instance. */
export function storedAfter(step: Exclude<PasswordRotation, { kind: "None" }>): StoredPasswords {
  return step.kind === "Add"
    ? { password: step.password, previous: step.previous }
    : { password: step.password };
}
