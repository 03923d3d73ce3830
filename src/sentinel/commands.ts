/**
 * The commands of the Sentinel endpoint, answered in the shapes redis-sentinel
 * 7 uses (fields, types, order; see tests/redis/sentinel_conformance_test.ts).
 * Effects go through {@linkcode EndpointContext}; replies are values.
 *
 * Who sees what: a Redis without a password is shown to every client (any pod
 * can reach its Services anyway); one with a password only to a connection
 * that gave that password, with AUTH or HELLO, as a Sentinel with
 * `requirepass` would ask for it.
 *
 * @module
 */
import { type Reply, reply } from "./resp.ts";
import type { SentinelEntry, SentinelReplica } from "./view.ts";

/** The version the endpoint reports: the redis-sentinel whose replies it follows. */
export const reportedVersion = "7.0.15";

/** What commands need from the server. */
export interface EndpointContext {
  /** The entries served now. */
  entries(): readonly SentinelEntry[];
  /** Is `password` the password of the Redis `key` (either one, during a rotation)? */
  passwordMatches(key: string, password: string): Promise<boolean>;
  /** Asks the leader for a planned handover of `key`; the reply to give the client. */
  requestFailover(entry: SentinelEntry): Promise<Reply>;
  /** This process's Sentinel ID (40 hex digits). */
  readonly myId: string;
  readonly port: number;
  /** When the endpoint started (ms since the epoch). */
  readonly startedAt: number;
  connectedClients(): number;
}

/** One connection's state. */
export interface Session {
  readonly id: number;
  protocol: 2 | 3;
  name?: string;
  /** The password the client gave, once it matched some Redis. */
  password?: string;
  readonly channels: Set<string>;
  /** Patterns, each with the published channels it matches (decided once, at PSUBSCRIBE). */
  readonly patterns: Map<string, readonly string[]>;
  /** QUIT: close once the reply is written. */
  closing: boolean;
}

/** The channels the endpoint publishes on; patterns are matched against them once. */
export const publishedChannels = ["+switch-master"] as const;

/** How long a failed AUTH waits before its answer. */
const failedAuthDelayMs = 100;

/** Subscriptions one connection may hold: every Sentinel client needs one or two. */
const maxSubscriptions = 128;

/** A new session with RESP2 and no authentication, as every connection starts. */
export function newSession(id: number): Session {
  return { id, protocol: 2, channels: new Set(), patterns: new Map(), closing: false };
}

const refusedChange =
  "this endpoint is served by redis-operator and monitors nothing itself: change the Redis resource instead (kubectl edit redis NAME)";
const noSuchMaster = reply.error("ERR No such master with that name");
const noAuth = reply.error("NOAUTH Authentication required.");
const wrongPass = reply.error("WRONGPASS invalid username-password pair or user is disabled.");

/** Commands a subscribed RESP2 connection may send, as in redis-server. */
const allowedWhileSubscribed = new Set([
  "subscribe",
  "psubscribe",
  "unsubscribe",
  "punsubscribe",
  "ping",
  "quit",
  "reset",
]);

/** Runs one command; most give one reply, (un)subscribing gives one per channel. */
export async function runCommand(
  args: readonly string[],
  session: Session,
  ctx: EndpointContext,
): Promise<Reply[]> {
  const command = args[0]!.toLowerCase();
  const rest = args.slice(1);
  const subscribed = session.channels.size + session.patterns.size > 0;
  if (subscribed && session.protocol === 2 && !allowedWhileSubscribed.has(command)) {
    return [
      reply.error(
        `ERR Can't execute '${command}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
      ),
    ];
  }
  switch (command) {
    case "ping":
      if (rest.length > 1) return [arity("ping")];
      if (subscribed && session.protocol === 2) return [reply.bulks(["pong", rest[0] ?? ""])];
      return [rest[0] === undefined ? reply.simple("PONG") : reply.bulk(rest[0])];
    case "quit":
      session.closing = true;
      return [reply.ok];
    case "reset":
      session.channels.clear();
      session.patterns.clear();
      session.protocol = 2;
      delete session.name;
      delete session.password;
      return [reply.simple("RESET")];
    case "auth":
      return [await authenticate(rest, session, ctx)];
    case "hello":
      return [await hello(rest, session, ctx)];
    case "client":
      return [client(rest, session)];
    case "role":
      if (rest.length) return [arity("role")];
      return [
        reply.array([
          reply.bulk("sentinel"),
          reply.bulks((await visibleEntries(session, ctx)).map((e) => e.name)),
        ]),
      ];
    case "info":
      return [reply.bulk(info(rest, await visibleEntries(session, ctx), ctx))];
    case "sentinel":
      return [await sentinel(rest, session, ctx)];
    case "subscribe":
    case "psubscribe":
      if (!rest.length) return [arity(command)];
      return rest.map((target) => {
        if (session.channels.size + session.patterns.size >= maxSubscriptions) {
          return reply.error(`ERR at most ${maxSubscriptions} subscriptions per connection`);
        }
        if (command === "subscribe") session.channels.add(target);
        else session.patterns.set(target, publishedChannels.filter((c) => globMatch(target, c)));
        return reply.push([
          reply.bulk(command),
          reply.bulk(target),
          reply.int(session.channels.size + session.patterns.size),
        ]);
      });
    case "unsubscribe":
    case "punsubscribe": {
      const set = command === "unsubscribe" ? session.channels : session.patterns;
      const targets = rest.length ? rest : [...set.keys()];
      if (!targets.length) {
        return [reply.push([reply.bulk(command), reply.nullBulk, reply.int(0)])];
      }
      return targets.map((target) => {
        set.delete(target);
        return reply.push([
          reply.bulk(command),
          reply.bulk(target),
          reply.int(session.channels.size + session.patterns.size),
        ]);
      });
    }
    case "config":
    case "shutdown":
    case "replicaof":
    case "slaveof":
    case "acl":
      return [reply.error(`ERR ${command.toUpperCase()}: ${refusedChange}`)];
    default:
      return [unknownCommand(args)];
  }
}

function arity(fullName: string): Reply {
  return reply.error(`ERR wrong number of arguments for '${fullName}' command`);
}

function unknownCommand(args: readonly string[]): Reply {
  const shown = args.slice(1).map((a) => `'${a.slice(0, 128)}' `).join("");
  return reply.error(
    `ERR unknown command '${args[0]!.slice(0, 128)}', with args beginning with: ${shown}`,
  );
}

/** The entries this session may see. */
async function visibleEntries(session: Session, ctx: EndpointContext): Promise<SentinelEntry[]> {
  const entries = ctx.entries();
  // All at once: each check may read a Secret.
  const shown = await Promise.all(entries.map((entry) =>
    !entry.protected ||
    (session.password !== undefined && ctx.passwordMatches(entry.key, session.password))
  ));
  return entries.filter((_, i) => shown[i]);
}

/** The entry named `name`, or the error a client gets (NOAUTH hides where it is). */
async function lookUp(
  name: string,
  session: Session,
  ctx: EndpointContext,
): Promise<SentinelEntry | Reply> {
  const entries = ctx.entries();
  const entry = entries.find((e) => e.name === name);
  if (entry && !entry.protected) return entry;
  if (entry && session.password && await ctx.passwordMatches(entry.key, session.password)) {
    return entry;
  }
  // The same answer for a protected name as for one that does not exist, so asking says
  // nothing of which Redis resources exist: a password is asked for while none was given
  // and some Redis has one, as a Sentinel with requirepass asks for it.
  return !session.password && entries.some((e) => e.protected) ? noAuth : noSuchMaster;
}

function isEntry(value: SentinelEntry | Reply): value is SentinelEntry {
  return "key" in value;
}

/** AUTH password | AUTH default password. */
async function authenticate(
  rest: readonly string[],
  session: Session,
  ctx: EndpointContext,
): Promise<Reply> {
  if (rest.length < 1 || rest.length > 2) return arity("auth");
  const [user, password] = rest.length === 2 ? [rest[0]!, rest[1]!] : ["default", rest[0]!];
  if (user === "default") {
    const matches = await Promise.all(
      ctx.entries().filter((e) => e.protected).map((e) => ctx.passwordMatches(e.key, password)),
    );
    if (matches.some(Boolean)) {
      session.password = password;
      return reply.ok;
    }
  }
  // A wrong guess costs the guesser time: one connection tries at most ten a second.
  await new Promise((resolve) => setTimeout(resolve, failedAuthDelayMs));
  return wrongPass;
}

/** HELLO [protover [AUTH user password] [SETNAME name]]. */
async function hello(
  rest: readonly string[],
  session: Session,
  ctx: EndpointContext,
): Promise<Reply> {
  let protocol = session.protocol;
  let i = 0;
  if (rest.length) {
    const wanted = Number(rest[0]);
    if (!Number.isInteger(wanted)) {
      return reply.error("ERR Protocol version is not an integer or out of range");
    }
    if (wanted !== 2 && wanted !== 3) return reply.error("NOPROTO unsupported protocol version");
    protocol = wanted;
    i = 1;
  }
  let name: string | undefined;
  for (; i < rest.length; i++) {
    const option = rest[i]!.toLowerCase();
    if (option === "auth" && rest[i + 2] !== undefined) {
      const result = await authenticate([rest[i + 1]!, rest[i + 2]!], session, ctx);
      if (result.t === "error") return result;
      i += 2;
    } else if (option === "setname" && rest[i + 1] !== undefined) {
      name = rest[++i]!;
      if (!validClientName(name)) return badClientName;
    } else {
      return reply.error(`ERR Syntax error in HELLO option '${rest[i]}'`);
    }
  }
  session.protocol = protocol;
  if (name !== undefined) session.name = name;
  return reply.map([
    ["server", reply.bulk("redis")],
    ["version", reply.bulk(reportedVersion)],
    ["proto", reply.int(protocol)],
    ["id", reply.int(session.id)],
    ["mode", reply.bulk("sentinel")],
    ["modules", reply.array([])],
  ]);
}

const badClientName = reply.error(
  "ERR Client names cannot contain spaces, newlines or special characters.",
);

function validClientName(name: string): boolean {
  return /^[!-~]*$/.test(name);
}

/** CLIENT ID | SETNAME | GETNAME | SETINFO (what client libraries send on connect). */
function client(rest: readonly string[], session: Session): Reply {
  const sub = rest[0]?.toLowerCase();
  const expect = (n: number) => rest.length === n ? undefined : arity(`client|${sub}`);
  switch (sub) {
    case "id":
      return expect(1) ?? reply.int(session.id);
    case "getname":
      return expect(1) ?? (session.name ? reply.bulk(session.name) : reply.nullBulk);
    case "setname":
      if (rest.length !== 2) return arity("client|setname");
      if (!validClientName(rest[1]!)) return badClientName;
      if (rest[1] === "") delete session.name;
      else session.name = rest[1]!;
      return reply.ok;
    case "setinfo":
      return expect(3) ?? reply.ok;
    case undefined:
      return arity("client");
    default:
      return reply.error(`ERR unknown subcommand '${rest[0]!.slice(0, 128)}'. Try CLIENT HELP.`);
  }
}

/** The SENTINEL subcommands clients and tools use. */
async function sentinel(
  rest: readonly string[],
  session: Session,
  ctx: EndpointContext,
): Promise<Reply> {
  const sub = rest[0]?.toLowerCase();
  if (sub === undefined) return arity("sentinel");
  const needs = (n: number) => rest.length === n ? undefined : arity(`sentinel|${sub}`);
  const named = async (render: (entry: SentinelEntry) => Reply | Promise<Reply>) => {
    const wrong = needs(2);
    if (wrong) return wrong;
    const found = await lookUp(rest[1]!, session, ctx);
    return isEntry(found) ? await render(found) : found;
  };
  switch (sub) {
    case "masters":
      return needs(1) ??
        reply.array((await visibleEntries(session, ctx)).map((e) => masterFields(e)));
    case "master":
      return await named((e) => masterFields(e));
    case "get-master-addr-by-name": {
      const wrong = needs(2);
      if (wrong) return wrong;
      const found = await lookUp(rest[1]!, session, ctx);
      if (!isEntry(found)) return found === noSuchMaster ? reply.nullArray : found;
      return found.master
        ? reply.bulks([found.master.ip, String(found.master.port)])
        : reply.nullArray;
    }
    case "replicas":
    case "slaves":
      return await named((e) => reply.array(e.replicas.map((r) => replicaFields(e, r))));
    case "sentinels":
      // The operator's replicas share one Service address; clients keep using it, so
      // there are no other Sentinels to learn of.
      return await named(() => reply.array([]));
    case "ckquorum":
      return await named(() =>
        reply.simple("OK 1 usable Sentinels. Quorum and failover authorization can be reached")
      );
    case "myid":
      return needs(1) ?? reply.bulk(ctx.myId);
    case "failover":
      return await named((e) => ctx.requestFailover(e));
    case "set":
    case "monitor":
    case "remove":
    case "reset":
    case "flushconfig":
    case "config":
    case "is-master-down-by-addr":
    case "simulate-failure":
    case "debug":
      return reply.error(`ERR SENTINEL ${sub.toUpperCase()}: ${refusedChange}`);
    case "help":
      return reply.bulks([
        "SENTINEL <subcommand> [<arg> ...]. Served by redis-operator. Subcommands are:",
        "MASTERS, MASTER <name>, GET-MASTER-ADDR-BY-NAME <name>, REPLICAS <name>,",
        "SENTINELS <name>, CKQUORUM <name>, MYID, FAILOVER <name> (a planned handover).",
        "Anything that would reconfigure is refused: change the Redis resource instead.",
      ]);
    default:
      return reply.error(`ERR unknown subcommand '${rest[0]!.slice(0, 128)}'. Try SENTINEL HELP.`);
  }
}

/** The fields redis-sentinel starts every monitored instance's reply with, in its order. */
function instanceFields(
  name: string,
  address: { readonly ip: string; readonly port: number },
  flags: string,
): Array<[string, string]> {
  return [
    ["name", name],
    ["ip", address.ip],
    ["port", String(address.port)],
    ["runid", ""],
    ["flags", flags],
    ["link-pending-commands", "0"],
    ["link-refcount", "1"],
    ["last-ping-sent", "0"],
    ["last-ok-ping-reply", "0"],
    ["last-ping-reply", "0"],
  ];
}

/** SENTINEL MASTER's fields, in redis-sentinel's order; every value is a bulk string. */
function masterFields(entry: SentinelEntry): Reply {
  const master = entry.master ?? { ip: "", port: 0, up: false };
  const fields: Array<[string, string]> = [
    ...instanceFields(entry.name, master, master.up ? "master" : "s_down,o_down,master"),
    ...(master.up ? [] : [["s-down-time", "0"], ["o-down-time", "0"]] as Array<[string, string]>),
    ["down-after-milliseconds", String(entry.downAfterMs)],
    ["info-refresh", "0"],
    ["role-reported", "master"],
    ["role-reported-time", "0"],
    ["config-epoch", String(entry.epoch)],
    ["num-slaves", String(entry.replicas.length)],
    ["num-other-sentinels", "0"],
    ["quorum", "1"],
    ["failover-timeout", "1000"],
    ["parallel-syncs", "1"],
  ];
  return reply.map(fields.map(([k, v]) => [k, reply.bulk(v)]));
}

/** SENTINEL REPLICAS' fields for one replica, in redis-sentinel's order. */
function replicaFields(entry: SentinelEntry, replica: SentinelReplica): Reply {
  const fields: Array<[string, string]> = [
    ...instanceFields(
      `${replica.ip}:${replica.port}`,
      replica,
      replica.up ? "slave" : "s_down,slave",
    ),
    ...(replica.up ? [] : [["s-down-time", "0"]] as Array<[string, string]>),
    ["down-after-milliseconds", String(entry.downAfterMs)],
    ["info-refresh", "0"],
    ["role-reported", "slave"],
    ["role-reported-time", "0"],
    ["master-link-down-time", "0"],
    ["master-link-status", replica.up ? "ok" : "err"],
    ["master-host", replica.masterIp ?? "?"],
    ["master-port", String(entry.master?.port ?? 0)],
    ["slave-priority", "100"],
    ["slave-repl-offset", "0"],
    ["replica-announced", "1"],
  ];
  return reply.map(fields.map(([k, v]) => [k, reply.bulk(v)]));
}

/** INFO [section ...]: server, clients and sentinel, as redis-sentinel reports them. */
function info(rest: readonly string[], visible: readonly SentinelEntry[], ctx: EndpointContext) {
  const wanted = rest.map((s) => s.toLowerCase());
  const all = !wanted.length || wanted.some((s) => ["all", "default", "everything"].includes(s));
  const sections: string[] = [];
  if (all || wanted.includes("server")) {
    const uptime = Math.floor((Date.now() - ctx.startedAt) / 1000);
    sections.push(
      [
        "# Server",
        `redis_version:${reportedVersion}`,
        "redis_mode:sentinel",
        "server:redis-operator",
        `run_id:${ctx.myId}`,
        `tcp_port:${ctx.port}`,
        `uptime_in_seconds:${uptime}`,
        `uptime_in_days:${Math.floor(uptime / 86400)}`,
      ].join("\r\n"),
    );
  }
  if (all || wanted.includes("clients")) {
    sections.push(`# Clients\r\nconnected_clients:${ctx.connectedClients()}\r\nmaxclients:10000`);
  }
  if (all || wanted.includes("sentinel")) {
    sections.push(
      [
        "# Sentinel",
        `sentinel_masters:${visible.length}`,
        "sentinel_tilt:0",
        "sentinel_tilt_since_seconds:-1",
        "sentinel_running_scripts:0",
        "sentinel_scripts_queue_length:0",
        "sentinel_simulate_failure_flags:0",
        ...visible.map((e, i) =>
          `master${i}:name=${e.name},status=${e.master?.up ? "ok" : "odown"},address=${
            e.master?.ip ?? ""
          }:${e.master?.port ?? 0},slaves=${e.replicas.length},sentinels=1`
        ),
      ].join("\r\n"),
    );
  }
  return sections.length ? sections.join("\r\n\r\n") + "\r\n" : "";
}

/**
 * Does `channel` match the glob `pattern`, as PSUBSCRIBE matches (`*`, `?`,
 * `[...]` with `^` and ranges, `\` escapes)?
 */
export function globMatch(pattern: string, channel: string): boolean {
  // Each (pattern, channel) position is tried once: without it, `*a*a*a…` takes
  // exponential time (redis-server's CVE-2022-36021).
  const failed = new Set<number>();
  const match = (p: number, c: number): boolean => {
    const at = p * (channel.length + 1) + c;
    if (failed.has(at)) return false;
    const result = step(p, c);
    if (!result) failed.add(at);
    return result;
  };
  const step = (p: number, c: number): boolean => {
    while (p < pattern.length) {
      const token = pattern[p]!;
      if (token === "*") {
        while (pattern[p + 1] === "*") p++;
        if (p + 1 === pattern.length) return true;
        for (let k = c; k <= channel.length; k++) if (match(p + 1, k)) return true;
        return false;
      }
      if (c >= channel.length) return false;
      if (token === "?") {
        p++;
        c++;
        continue;
      }
      if (token === "[") {
        let q = p + 1;
        const negate = pattern[q] === "^";
        if (negate) q++;
        let matched = false;
        while (q < pattern.length && pattern[q] !== "]") {
          if (pattern[q] === "\\" && q + 1 < pattern.length) {
            q++;
            if (pattern[q] === channel[c]) matched = true;
          } else if (pattern[q + 1] === "-" && q + 2 < pattern.length && pattern[q + 2] !== "]") {
            let [lo, hi] = [pattern[q]!, pattern[q + 2]!];
            if (lo > hi) [lo, hi] = [hi, lo];
            if (channel[c]! >= lo && channel[c]! <= hi) matched = true;
            q += 2;
          } else if (pattern[q] === channel[c]) matched = true;
          q++;
        }
        if (matched === negate) return false;
        p = q + 1;
        c++;
        continue;
      }
      const literal = token === "\\" && p + 1 < pattern.length ? pattern[++p]! : token;
      if (literal !== channel[c]) return false;
      p++;
      c++;
    }
    return c === channel.length;
  };
  try {
    return match(0, 0);
  } catch {
    // Too deep to recurse (a pattern of many thousands of stars): no match, as no channel
    // the endpoint publishes could need one.
    return false;
  }
}
