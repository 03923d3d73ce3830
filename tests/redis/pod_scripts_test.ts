/**
 * The pod scripts the ConfigMap carries, run for real: start.sh starts
 * redis-server and pre-stop.sh holds a master that still has replicas, also
 * after the operator rotated the password the container was started with.
 *
 * Each run is inside its own mount and network namespace (`unshare -m -n`):
 * the scripts' fixed paths get temporary folders and the servers listen on a
 * loopback no one else sees.
 */
import assert from "node:assert/strict";
import { buildConfigMap } from "../../src/specs/config_map.ts";
import {
  exporterUser,
  hookUser,
  initialStartupLines,
  managedUsers,
  operatorUser,
  replicationUser,
  startupLines,
} from "../../src/decide/acl.ts";
import { passwordHash } from "../../src/controller/acl_secret_state.ts";

/** Runs `script` (sh) in fresh mount and network namespaces with the scripts in /etc/redis. */
async function inNamespaces(script: string): Promise<string> {
  const config = await Deno.makeTempDir({ prefix: "redis-pod-config-" });
  try {
    const map = buildConfigMap({ metadata: { name: "hook", namespace: "test" } }, "");
    for (const [name, text] of Object.entries(map.data ?? {})) {
      // Data goes to the namespace's private /run: no /data on this machine.
      await Deno.writeTextFile(`${config}/${name}`, text.replace(/^dir .*$/m, "dir /run/redis"));
    }
    const setup = [
      "set -e",
      "ip link set lo up",
      `mount --bind ${config} /etc/redis`,
      "mount -t tmpfs tmpfs /run && mkdir /run/redis",
      // Polls a shell condition for up to 10 s.
      `wait_for() { i=0; until eval "$1"; do i=$((i+1)); [ $i -lt 200 ] || { echo "gave up: $1"; exit 3; }; sleep 0.05; done; }`,
    ].join("\n");
    const output = await new Deno.Command("unshare", {
      args: ["-m", "-n", "--propagation", "private", "sh", "-c", `${setup}\n${script}`],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    const text = new TextDecoder().decode(output.stdout);
    assert.ok(output.success, `${text}\n${new TextDecoder().decode(output.stderr)}`);
    return text;
  } finally {
    await Deno.remove(config, { recursive: true });
  }
}

Deno.test("pre-stop.sh holds a master with a replica, also after a password rotation, and lets a replica go", async () => {
  const output = await inNamespaces(`
export POD_IP=127.0.0.1 REDIS_PASSWORD=first REDISCLI_AUTH=first
sh /etc/redis/start.sh >/dev/null 2>&1 &
wait_for "redis-cli -p 6379 ping 2>/dev/null | grep -q PONG"
redis-server --port 6380 --bind 127.0.0.1 --save "" --dir /run/redis --dbfilename replica.rdb --replicaof 127.0.0.1 6379 --masterauth first --daemonize yes >/dev/null
wait_for "redis-cli -p 6379 info replication | grep -q 'slave0:.*state=online'"
# The operator rotates the password: the hook's environment still has the old one.
redis-cli -p 6379 CONFIG SET requirepass second >/dev/null
set +e
timeout 1.5 sh /etc/redis/pre-stop.sh; echo "master with a replica: exit $?"
REDISCLI_AUTH=second redis-cli -p 6379 REPLICAOF 127.0.0.1 6380 >/dev/null
timeout 1.5 sh /etc/redis/pre-stop.sh; echo "replica: exit $?"
REDISCLI_AUTH=second redis-cli -p 6379 shutdown nosave 2>/dev/null
redis-cli -p 6380 shutdown nosave 2>/dev/null
exit 0
`);
  // timeout(1) exits 124 when it had to stop the hook: the hook was still holding.
  assert.match(output, /master with a replica: exit 124/);
  assert.match(output, /replica: exit 0/);
});

Deno.test("pre-stop.sh stays a moment after the handover it held for, so the Service moves before the address goes, also when it sees the handover half done", async () => {
  const output = await inNamespaces(`
export POD_IP=127.0.0.1
sh /etc/redis/start.sh >/dev/null 2>&1 &
wait_for "redis-cli -p 6379 ping 2>/dev/null | grep -q PONG"
redis-server --port 6380 --bind 127.0.0.1 --save "" --dir /run/redis --dbfilename replica.rdb --replicaof 127.0.0.1 6379 --daemonize yes >/dev/null
wait_for "redis-cli -p 6379 info replication | grep -q 'slave0:.*state=online'"
sh /etc/redis/pre-stop.sh & hook=$!
sleep 0.5
kill -0 $hook && echo "holding the master"
# The operator's handover: the replica becomes master, then this one is parked. Between
# the two this one is a master without replicas, as when it never had any: the hook must
# not take that for nothing to hand over (it polls every 0.2 s; here it surely sees it).
redis-cli -p 6380 REPLICAOF NO ONE >/dev/null
sleep 0.5
redis-cli -p 6379 REPLICAOF 127.0.0.1 1 >/dev/null
sleep 0.8
kill -0 $hook && echo "still there after the handover"
wait $hook; echo "hook: exit $?"
redis-cli -p 6379 shutdown nosave 2>/dev/null
redis-cli -p 6380 shutdown nosave 2>/dev/null
exit 0
`);
  assert.match(output, /holding the master/);
  assert.match(output, /still there after the handover/);
  assert.match(output, /hook: exit 0/);
});

Deno.test("start.sh restarting the recorded master parks it with reads refused: its empty data is never served", async () => {
  const output = await inNamespaces(`
export POD_IP=127.0.0.1
printf 127.0.0.1 > /etc/redis/master
sh /etc/redis/start.sh >/dev/null 2>&1 &
wait_for "redis-cli -p 6379 info replication 2>/dev/null | grep -q role:slave"
redis-cli -p 6379 info replication | tr -d '\\r' | grep -E '^master_host:'
redis-cli -p 6379 get key
redis-cli -p 6379 set key value
redis-cli -p 6379 shutdown nosave 2>/dev/null
exit 0
`);
  assert.match(output, /^master_host:127\.0\.0\.1$/m);
  assert.match(output, /MASTERDOWN/, `a read is refused, not answered from empty data: ${output}`);
  assert.match(output, /READONLY/, "a write is refused");
});

Deno.test("start.sh starting a replica refuses reads until its first sync: it holds nothing yet", async () => {
  // The recorded master does not answer (nothing listens there): the link stays down.
  const output = await inNamespaces(`
export POD_IP=127.0.0.1
printf 127.0.0.2 > /etc/redis/master
sh /etc/redis/start.sh >/dev/null 2>&1 &
wait_for "redis-cli -p 6379 info replication 2>/dev/null | grep -q role:slave"
redis-cli -p 6379 info replication | tr -d '\\r' | grep -E '^master_(host|link_status):'
redis-cli -p 6379 get key
redis-cli -p 6379 shutdown nosave 2>/dev/null
exit 0
`);
  assert.match(output, /^master_host:127\.0\.0\.2$/m);
  assert.match(output, /^master_link_status:down$/m);
  assert.match(output, /MASTERDOWN/, `a read is refused, not answered from empty data: ${output}`);
});

Deno.test("start.sh starts Redis 6.0, which knows no channel permissions, and the hook's user reads INFO", async () => {
  // The build of cluster/build/redis_versions.sh, first on the PATH as in its image.
  const cache = Deno.env.get("REDIS_OPERATOR_CACHE") ??
    `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/redis-operator`;
  const bin = `${cache}/redis-builds/redis-6.0.16/bin`;
  assert.ok(
    await Deno.stat(`${bin}/redis-server`).then(() => true, () => false),
    `no Redis 6.0 build at ${bin}: run cluster/build/redis_versions.sh`,
  );
  const output = await inNamespaces(`
export POD_IP=127.0.0.1 PATH=${bin}:$PATH
sh /etc/redis/start.sh >/dev/null 2>&1 &
wait_for "redis-cli -p 6379 ping 2>/dev/null | grep -q PONG"
redis-cli -p 6379 info server | tr -d '\\r' | grep -E '^redis_version:'
redis-cli -p 6379 --user ${hookUser} --pass "$(cat /run/redis/hook-token)" --no-auth-warning info replication | tr -d '\\r' | grep -E '^role:'
redis-cli -p 6379 shutdown nosave 2>/dev/null
exit 0
`);
  assert.match(output, /^redis_version:6\.0\.16$/m);
  assert.match(output, /^role:master$/m, `the hook's user reads INFO: ${output}`);
});

Deno.test("start.sh takes a password with quotes, backslashes, spaces and a percent sign", async () => {
  const password = String.raw`a "quoted" \ pass%s word\\`;
  const output = await inNamespaces(`
export POD_IP=127.0.0.1 REDIS_PASSWORD='${password.replaceAll("'", "'\\''")}'
sh /etc/redis/start.sh >/dev/null 2>&1 &
wait_for "redis-cli -p 6379 ping 2>/dev/null | grep -q NOAUTH"
REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p 6379 ping
REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p 6379 config get masterauth | tail -1
REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p 6379 shutdown nosave 2>/dev/null
exit 0
`);
  const [pong, masterauth] = output.trim().split("\n");
  assert.equal(pong, "PONG");
  assert.equal(masterauth, password);
});

Deno.test("start.sh starts with spec.acl's users: the operator's user reads INFO but no key, the default user is off, replicas sync as their own user", async () => {
  const passwords = { operator: "op-pw", replication: "repl-pw", exporter: "exp-pw" };
  const lines = initialStartupLines(passwords, passwordHash);
  const op = `redis-cli --user ${operatorUser} --pass op-pw --no-auth-warning`;
  const output = await inNamespaces(`
export POD_IP=127.0.0.1 REDIS_PASSWORD=pw REDIS_DEFAULT_USER=off REDIS_ACL_CONF='${
    lines.replaceAll("'", "'\\''")
  }'
sh /etc/redis/start.sh >/dev/null 2>&1 &
master=$!
wait_for "redis-cli -p 6379 ping 2>/dev/null | grep -q NOAUTH"
set +e
${op} -p 6379 info replication | grep -q role:master && echo "operator reads INFO"
${op} -p 6379 get key
REDISCLI_AUTH=pw redis-cli -p 6379 ping
# Turned on again, the default user has the password the pod started with.
${op} -p 6379 acl setuser default on >/dev/null
REDISCLI_AUTH=pw redis-cli -p 6379 get key | grep -qv NOAUTH && echo "default user back with its password"
# A replica started the same way (same lines) syncs as the replication user.
mkdir /run/replica && cd /run/replica
redis-server --port 6380 --bind 127.0.0.1 --save "" --dir /run/replica --replicaof 127.0.0.1 6379 \\
  --masteruser ${replicationUser} --masterauth repl-pw --pidfile /run/replica/pid --daemonize yes >/dev/null
wait_for "${op} -p 6379 info replication | grep -q 'slave0:.*state=online'"
# The exporter's user may list clients (the operator's may not).
redis-cli --user ${exporterUser} --pass exp-pw --no-auth-warning -p 6379 client list type replica |
  grep -o 'user=[^ ]*'
${op} -p 6379 acl list > /run/list
kill $master "$(cat /run/replica/pid)"
cat /run/list
exit 0
`);
  assert.match(output, /operator reads INFO/);
  assert.match(output, /NOPERM/, "the operator's user reads no key");
  assert.match(output, /WRONGPASS|NOAUTH/, "the default user is off");
  assert.match(output, /default user back with its password/);
  assert.match(output, new RegExp(`user=${replicationUser}`));
  // What the operator would record for restarting pods starts a server again.
  const list = output.split("\n").filter((l) => l.startsWith("user "));
  const again = startupLines(list, managedUsers([]), "repl-pw");
  const restarted = await inNamespaces(`
export POD_IP=127.0.0.1 REDIS_ACL_CONF='${again.replaceAll("'", "'\\''")}'
sh /etc/redis/start.sh >/dev/null 2>&1 &
master=$!
wait_for "redis-cli -p 6379 ping 2>/dev/null | grep -q PONG"
${op} -p 6379 config get masteruser | tail -1
kill $master
exit 0
`);
  assert.equal(restarted.trim(), replicationUser);
});
