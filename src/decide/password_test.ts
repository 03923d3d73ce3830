import assert from "node:assert/strict";
import { candidatePasswords, decidePasswordRotation, storedAfter } from "./password.ts";

Deno.test("decidePasswordRotation(): a new password is added first, then the old one dropped", () => {
  const add = decidePasswordRotation("new", { password: "old" });
  assert.deepEqual(add, { kind: "Add", password: "new", previous: "old" });
  const recorded = storedAfter(add as Exclude<typeof add, { kind: "None" }>);
  assert.deepEqual(recorded, { password: "new", previous: "old" });
  const finish = decidePasswordRotation("new", recorded);
  assert.deepEqual(finish, { kind: "Finish", password: "new", previous: "old" });
  const done = storedAfter(finish as Exclude<typeof finish, { kind: "None" }>);
  assert.deepEqual(done, { password: "new" });
  assert.deepEqual(decidePasswordRotation("new", done), { kind: "None" });
});

Deno.test("decidePasswordRotation(): nothing to rotate without a copy or without a password", () => {
  assert.deepEqual(decidePasswordRotation("pw", undefined), { kind: "None" });
  assert.deepEqual(decidePasswordRotation(undefined, { password: "pw" }), { kind: "None" });
});

Deno.test("decidePasswordRotation(): a change in the middle of a rotation starts from the recorded password", () => {
  assert.deepEqual(
    decidePasswordRotation("third", { password: "second", previous: "first" }),
    { kind: "Add", password: "third", previous: "second" },
  );
});

Deno.test("candidatePasswords(): the wanted one first, each once", () => {
  assert.deepEqual(candidatePasswords("new", { password: "old", previous: "new" }), ["new", "old"]);
  assert.deepEqual(candidatePasswords(undefined, undefined), []);
});
