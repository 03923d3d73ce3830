import assert from "node:assert/strict";
import {
  aclFingerprint,
  hasAclTraces,
  hookUser,
  initialStartupLines,
  managedUsers,
  operatorUser,
  plainLines,
  replicationUser,
  ruleArguments,
  setUserArguments,
  staleUsers,
  startupLines,
  type WantedAcl,
} from "./acl.ts";

const hash = (p: string) => `h(${p})`;
// Captured from redis-server 7.0.15 (ACL LIST).
const defaultOn = "user default on #2d71 ~* &* +@all";
const hook = `user ${hookUser} on #aa resetchannels -@all +info +ping`;
const app = "user app on sanitize-payload #30c9 ~app:* resetchannels +@all -@dangerous";

Deno.test("ruleArguments() splits at spaces and keeps a selector whole", () => {
  assert.deepEqual(ruleArguments("  ~app:*\t+@read  (~log:* +xadd +get) -debug"), [
    "~app:*",
    "+@read",
    "(~log:* +xadd +get)",
    "-debug",
  ]);
  assert.deepEqual(ruleArguments(""), []);
});

Deno.test("setUserArguments() resets the user and sends the password hash, never the password", () => {
  assert.deepEqual(setUserArguments({ name: "app", passwordHash: "abc", rules: ["~a:*"] }), [
    "app",
    "reset",
    "on",
    "#abc",
    "~a:*",
  ]);
});

Deno.test("staleUsers() removes the users the operator made and the spec dropped, never others", () => {
  const wanted: WantedAcl = {
    kind: "Users",
    users: [{ name: operatorUser, passwordHash: "x", rules: [] }],
    untouched: [],
    defaultUserOn: true,
    replicationPassword: "r",
  };
  const byHand = "user ops on #cc ~* +@all";
  const list = [defaultOn, hook, app, byHand, `user ${operatorUser} on #x -@all`];
  const managed = managedUsers(["app"]);
  assert.deepEqual(staleUsers(list, wanted, managed), ["app"]);
  assert.deepEqual(staleUsers(list, { kind: "DefaultOnly", masterPassword: "" }, managed), [
    "app",
    operatorUser,
  ]);
  assert.deepEqual(staleUsers(list, wanted, managedUsers([])), []);
});

Deno.test("hasAclTraces() sees a user the operator made, not the default, the hook's or one made by hand", () => {
  const managed = managedUsers(["app"]);
  assert.equal(hasAclTraces([defaultOn, hook, "user ops on #cc ~* +@all"], managed), false);
  assert.equal(hasAclTraces([defaultOn, hook, app], managed), true);
  assert.equal(hasAclTraces([defaultOn, `user ${replicationUser} on #r`], managed), true);
});

Deno.test("aclFingerprint() leaves out the hook's user, whose token each container makes", () => {
  const other = `user ${hookUser} on #bb resetchannels -@all +info +ping`;
  assert.equal(aclFingerprint([defaultOn, hook, app]), aclFingerprint([defaultOn, other, app]));
  assert.notEqual(aclFingerprint([defaultOn, app]), aclFingerprint([defaultOn]));
});

Deno.test("startupLines() keeps the users the operator answers for, not default, the hook's or one made by hand", () => {
  const byHand = "user ops on #cc ~* +@all";
  assert.equal(
    startupLines([defaultOn, hook, app, byHand], managedUsers(["app"]), 'p"w'),
    `${app}\nmasteruser ${replicationUser}\nmasterauth "p\\"w"\n`,
  );
});

Deno.test("plainLines() refuses a line Redis would read with quotes or escapes", () => {
  assert.equal(plainLines(startupLines([defaultOn, app], managedUsers(["app"]), "r")), true);
  assert.equal(plainLines(`user app on #1 ~a"b +@all\nmasterauth "r"\n`), false);
  assert.equal(plainLines(`user app on #1 ~a\\b +@all\n`), false);
});

Deno.test("staleUsers() leaves a user whose password could not be read", () => {
  const wanted: WantedAcl = {
    kind: "Users",
    users: [],
    untouched: ["app"],
    defaultUserOn: true,
    replicationPassword: "r",
  };
  assert.deepEqual(staleUsers([app], wanted, managedUsers(["app"])), []);
});

Deno.test("initialStartupLines() gives the operator's users and the replication user, not the default user", () => {
  const on = initialStartupLines({ operator: "o", replication: "r", exporter: "e" }, hash);
  assert.match(on, new RegExp(`^user ${operatorUser} on #h\\(o\\) resetchannels -@all `, "m"));
  assert.match(on, new RegExp(`^user ${replicationUser} on #h\\(r\\) resetchannels -@all `, "m"));
  assert.doesNotMatch(on, /user default/);
  assert.match(on, /^masteruser redis-operator-replication\nmasterauth "r"$/m);
});
