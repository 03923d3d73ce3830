import assert from "node:assert/strict";
import { type EndpointContext, globMatch, newSession, runCommand } from "./commands.ts";
import { encodeReply, type Reply, reply } from "./resp.ts";
import type { SentinelEntry } from "./view.ts";

const open: SentinelEntry = {
  port: 6379,
  key: "a/open",
  name: "a/open",
  protected: false,
  master: { ip: "10.0.0.1", port: 6379, up: true },
  replicas: [{ ip: "10.0.0.2", port: 6379, up: true, masterIp: "10.0.0.1" }],
  epoch: 2,
  downAfterMs: 2000,
};
const secret: SentinelEntry = { ...open, key: "b/secret", name: "mymaster", protected: true };

function context(failover: Reply = reply.ok): EndpointContext & { failovers: string[] } {
  const failovers: string[] = [];
  return {
    failovers,
    entries: () => [open, secret],
    passwordMatches: (key, password) => Promise.resolve(key === "b/secret" && password === "pw"),
    requestFailover: (entry) => {
      failovers.push(entry.key);
      return Promise.resolve(failover);
    },
    myId: "0".repeat(40),
    port: 26379,
    startedAt: Date.now(),
    connectedClients: () => 1,
  };
}

async function run(session = newSession(7), ctx = context(), ...args: string[]) {
  return (await runCommand(args, session, ctx)).map((r) => encodeReply(r, session.protocol));
}

Deno.test("a Redis with a password is hidden until AUTH gives it", async () => {
  const session = newSession(1);
  const ctx = context();
  assert.deepEqual(await run(session, ctx, "SENTINEL", "get-master-addr-by-name", "mymaster"), [
    "-NOAUTH Authentication required.\r\n",
  ]);
  const masters = (await run(session, ctx, "sentinel", "masters"))[0]!;
  assert.match(masters, /a\/open/);
  assert.doesNotMatch(masters, /mymaster/);
  assert.deepEqual(await run(session, ctx, "ROLE"), [
    "*2\r\n$8\r\nsentinel\r\n*1\r\n$6\r\na/open\r\n",
  ]);
  assert.deepEqual(await run(session, ctx, "AUTH", "nope"), [
    "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
  ]);
  assert.deepEqual(await run(session, ctx, "AUTH", "someone", "pw"), [
    "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
  ]);
  assert.deepEqual(await run(session, ctx, "AUTH", "default", "pw"), ["+OK\r\n"]);
  assert.deepEqual(await run(session, ctx, "sentinel", "GET-MASTER-ADDR-BY-NAME", "mymaster"), [
    "*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n",
  ]);
  assert.deepEqual(await run(session, ctx, "sentinel", "get-master-addr-by-name", "nope"), [
    "*-1\r\n",
  ]);
});

Deno.test("HELLO switches to RESP3 and authenticates in one step", async () => {
  const session = newSession(9);
  const [hello] = await run(
    session,
    context(),
    "HELLO",
    "3",
    "AUTH",
    "default",
    "pw",
    "SETNAME",
    "app",
  );
  assert.equal(session.protocol, 3);
  assert.equal(session.name, "app");
  assert.equal(session.password, "pw");
  assert.match(hello!, /^%6\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n/);
  assert.match(hello!, /\$4\r\nmode\r\n\$8\r\nsentinel\r\n/);
  const failed = newSession(10);
  assert.deepEqual(await run(failed, context(), "HELLO", "3", "AUTH", "default", "x"), [
    "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
  ]);
  assert.equal(failed.protocol, 2, "a refused HELLO changes nothing");
  assert.deepEqual(await run(newSession(11), context(), "HELLO", "4"), [
    "-NOPROTO unsupported protocol version\r\n",
  ]);
  // RESP3 null for an unknown master.
  assert.deepEqual(await run(session, context(), "SENTINEL", "get-master-addr-by-name", "x"), [
    "_\r\n",
  ]);
});

Deno.test("errors in redis-sentinel's words; changes refused with a pointer to the resource", async () => {
  assert.deepEqual(await run(undefined, undefined, "FOO", "a", "b"), [
    "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n",
  ]);
  assert.deepEqual(await run(undefined, undefined, "sentinel", "masters", "x"), [
    "-ERR wrong number of arguments for 'sentinel|masters' command\r\n",
  ]);
  assert.deepEqual(await run(undefined, undefined, "sentinel", "bogus"), [
    "-ERR unknown subcommand 'bogus'. Try SENTINEL HELP.\r\n",
  ]);
  // Without a password given, a name that does not exist and a protected one answer alike.
  assert.deepEqual(await run(undefined, undefined, "sentinel", "master", "nope"), [
    "-NOAUTH Authentication required.\r\n",
  ]);
  const authenticated = newSession(2);
  await run(authenticated, undefined, "AUTH", "pw");
  assert.deepEqual(await run(authenticated, undefined, "sentinel", "master", "nope"), [
    "-ERR No such master with that name\r\n",
  ]);
  for (
    const change of [["sentinel", "set", "a/open", "quorum", "2"], ["CONFIG", "SET", "x", "y"]]
  ) {
    const [answer] = await run(undefined, undefined, ...change);
    assert.match(answer!, /^-ERR .*served by redis-operator.*kubectl edit redis/);
  }
  assert.deepEqual(await run(undefined, undefined, "client", "setname", "a b"), [
    "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
  ]);
});

Deno.test("SENTINEL FAILOVER asks for a handover of a visible master only", async () => {
  const ctx = context();
  assert.deepEqual(await run(newSession(1), ctx, "SENTINEL", "FAILOVER", "mymaster"), [
    "-NOAUTH Authentication required.\r\n",
  ]);
  assert.deepEqual(await run(newSession(1), ctx, "SENTINEL", "FAILOVER", "a/open"), ["+OK\r\n"]);
  assert.deepEqual(ctx.failovers, ["a/open"]);
});

Deno.test("SENTINEL MASTER and REPLICAS carry redis-sentinel's fields in its order", async () => {
  const [master] = await runCommand(["sentinel", "master", "a/open"], newSession(1), context());
  assert.equal(master!.t, "map");
  const keys = master!.t === "map" ? master!.entries.map(([k]) => k) : [];
  assert.deepEqual(keys.slice(0, 5), ["name", "ip", "port", "runid", "flags"]);
  assert.deepEqual(keys.slice(-3), ["quorum", "failover-timeout", "parallel-syncs"]);
  const [replicas] = await runCommand(["sentinel", "replicas", "a/open"], newSession(1), context());
  assert.equal(replicas!.t, "array");
});

Deno.test("subscribed RESP2 connections take only pub/sub commands", async () => {
  const session = newSession(3);
  assert.deepEqual(await run(session, context(), "SUBSCRIBE", "+switch-master", "+sdown"), [
    "*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n",
    "*3\r\n$9\r\nsubscribe\r\n$6\r\n+sdown\r\n:2\r\n",
  ]);
  assert.deepEqual(await run(session, context(), "PING"), ["*2\r\n$4\r\npong\r\n$0\r\n\r\n"]);
  assert.match((await run(session, context(), "ROLE"))[0]!, /^-ERR Can't execute 'role'/);
  assert.deepEqual(await run(session, context(), "UNSUBSCRIBE"), [
    "*3\r\n$11\r\nunsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n",
    "*3\r\n$11\r\nunsubscribe\r\n$6\r\n+sdown\r\n:0\r\n",
  ]);
  assert.deepEqual(await run(session, context(), "PING"), ["+PONG\r\n"]);
});

Deno.test("PSUBSCRIBE patterns match like redis-server's", () => {
  assert.ok(globMatch("*", "+switch-master"));
  assert.ok(globMatch("+switch-*", "+switch-master"));
  assert.ok(globMatch("+sw?tch-master", "+switch-master"));
  assert.ok(globMatch("[+-]switch-master", "+switch-master"));
  assert.ok(!globMatch("[^+]switch-master", "+switch-master"));
  assert.ok(globMatch("\\*", "*"));
  assert.ok(!globMatch("\\*", "a"));
  assert.ok(!globMatch("+sdown", "+switch-master"));
});

Deno.test("a pathological pattern costs no more than its length times the channel's", () => {
  // Without the memo, the first call would not return in a lifetime.
  assert.ok(!globMatch("*a".repeat(5000) + "b", "+switch-master"));
  assert.ok(!globMatch("*a".repeat(300_000), "+switch-master"), "too deep: no match, no crash");
  assert.ok(globMatch("*s*w*i*t*c*h*-*m*a*s*t*e*r*", "+switch-master"));
});
