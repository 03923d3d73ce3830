import assert from "node:assert/strict";
import {
  candidatePasswords,
  decidePasswordRotation,
  initialPasswords,
  type PasswordRotation,
  storedAfter,
  type StoredPasswords,
} from "./password.ts";

/** The steps from `stored` to `wanted`, and what the copy says after each. */
function walk(wanted: string, stored: StoredPasswords): [PasswordRotation[], StoredPasswords] {
  const steps: PasswordRotation[] = [];
  for (let step = decidePasswordRotation(wanted, stored); step.kind !== "None";) {
    steps.push(step);
    stored = storedAfter(step);
    step = decidePasswordRotation(wanted, stored);
  }
  return [steps, stored];
}

Deno.test("decidePasswordRotation(): a new password is added first, then the old one dropped", () => {
  const [steps, done] = walk("new", { password: "old" });
  assert.deepEqual(steps, [
    { kind: "Add", password: "new", previous: "old" },
    { kind: "Finish", password: "new", previous: "old" },
  ]);
  assert.deepEqual(done, { password: "new" });
});

Deno.test("decidePasswordRotation(): adding a password to a Redis without one takes the same two steps", () => {
  const [steps, done] = walk("pw", { password: "" });
  assert.deepEqual(steps.map((s) => s.kind), ["Add", "Finish"]);
  assert.deepEqual(steps[0], { kind: "Add", password: "pw", previous: "" });
  assert.deepEqual(done, { password: "pw" });
});

Deno.test("decidePasswordRotation(): removing the password takes the same two steps", () => {
  const [steps, done] = walk("", { password: "pw" });
  assert.deepEqual(steps[0], { kind: "Add", password: "", previous: "pw" });
  assert.deepEqual(steps[1], { kind: "Finish", password: "", previous: "pw" });
  assert.deepEqual(done, { password: "" });
});

Deno.test("decidePasswordRotation(): a change in the middle of a rotation starts from the recorded password", () => {
  assert.deepEqual(
    decidePasswordRotation("third", { password: "second", previous: "first" }),
    { kind: "Add", password: "third", previous: "second" },
  );
});

Deno.test("initialPasswords(): running pods without a copy have no password; new pods start with the wanted one", () => {
  assert.deepEqual(initialPasswords("pw", undefined, true), { password: "" });
  assert.deepEqual(initialPasswords("pw", undefined, false), { password: "pw" });
  assert.deepEqual(initialPasswords("pw", { password: "old" }, true), { password: "old" });
});

Deno.test('candidatePasswords(): the wanted one first, each once, no password as ""', () => {
  assert.deepEqual(candidatePasswords("new", { password: "old", previous: "new" }), ["new", "old"]);
  assert.deepEqual(candidatePasswords("pw", { password: "" }), ["pw", ""]);
  assert.deepEqual(candidatePasswords(undefined, undefined), [""]);
});
