import assert from "node:assert/strict";
import {
  buildEntrypointCommand,
  buildOperatorCommand,
  buildRedisCommand,
  classifyImage,
  expandVariables,
  redisConfigPath,
  withImageDefaults,
} from "./images.ts";

Deno.test("classifyImage() knows redis and valkey by repository name, whatever the registry, tag or digest", () => {
  assert.equal(classifyImage("redis"), "redis");
  assert.equal(classifyImage("redis:7.0-alpine"), "redis");
  assert.equal(classifyImage("docker.io/library/redis:7.2"), "redis");
  assert.equal(classifyImage("valkey/valkey:8.0"), "redis");
  assert.equal(classifyImage("registry:5000/mirror/redis@sha256:abcd"), "redis");
  assert.equal(classifyImage("ghcr.io/x/redis-operator:dev"), "operator");
  assert.equal(classifyImage("registry.k8s.io/coredns/coredns:v1.15.0"), "coredns");
  assert.equal(classifyImage("nginx:1.27"), undefined);
  assert.equal(classifyImage("oliver006/redis_exporter:v1.62.0"), "redis-exporter");
  assert.equal(classifyImage("bitnami/redis-sentinel:7"), undefined);
});

Deno.test("expandVariables() replaces known $(VAR), keeps unknown ones and honours $$ escapes", () => {
  const env = { POD_IP: "198.18.1.2", NAME: "redis-0" };
  assert.equal(
    expandVariables("--ip $(POD_IP) --name=$(NAME)", env),
    "--ip 198.18.1.2 --name=redis-0",
  );
  assert.equal(expandVariables("$(MISSING) stays", env), "$(MISSING) stays");
  assert.equal(expandVariables("$$(POD_IP) is literal", env), "$(POD_IP) is literal");
  assert.equal(expandVariables("plain $HOME text", env), "plain $HOME text");
});

Deno.test("buildRedisCommand() follows the official image's entrypoint", () => {
  assert.deepEqual(buildRedisCommand({ name: "r" }, {}), ["redis-server"]);
  assert.deepEqual(buildRedisCommand({ name: "r", args: ["/etc/redis.conf"] }, {}), [
    "redis-server",
    "/etc/redis.conf",
  ]);
  assert.deepEqual(buildRedisCommand({ name: "r", args: ["--port", "7000"] }, {}), [
    "redis-server",
    "--port",
    "7000",
  ]);
  assert.deepEqual(buildRedisCommand({ name: "r", args: ["redis-cli", "ping"] }, {}), [
    "redis-cli",
    "ping",
  ]);
  assert.deepEqual(
    buildRedisCommand({ name: "r", command: ["sh", "-c"], args: ["echo $(X)"] }, { X: "1" }),
    ["sh", "-c", "echo 1"],
  );
  assert.deepEqual(
    buildRedisCommand({ name: "r", command: ["docker-entrypoint.sh"], args: ["x.conf"] }, {}),
    ["redis-server", "x.conf"],
  );
});

Deno.test("buildRedisCommand() runs valkey programs as their redis equivalents", () => {
  assert.deepEqual(
    buildRedisCommand(
      { name: "v", command: ["/usr/local/bin/valkey-server"], args: ["/c.conf"] },
      {},
    ),
    ["redis-server", "/c.conf"],
  );
});

Deno.test("buildOperatorCommand() runs main.ts from the cache with the container's arguments", () => {
  assert.deepEqual(
    buildOperatorCommand(
      { name: "o", command: ["/redis-operator"], args: ["--ns=$(NS)"] },
      { NS: "a" },
      "/usr/bin/deno",
      "/repo/main.ts",
    ),
    ["/usr/bin/deno", "run", "--allow-all", "--cached-only", "/repo/main.ts", "--ns=a"],
  );
});

Deno.test("buildEntrypointCommand(): args follow the entrypoint's local build; a command naming it runs it too", () => {
  const build = "/cache/coredns-v1.15.0/bin/coredns";
  assert.deepEqual(
    buildEntrypointCommand(
      { name: "c", args: ["-conf", "/etc/coredns/Corefile"] },
      {},
      "coredns",
      build,
    ),
    [build, "-conf", "/etc/coredns/Corefile"],
  );
  assert.deepEqual(
    buildEntrypointCommand(
      { name: "c", command: ["/coredns"], args: ["-dns.port=1053"] },
      {},
      "coredns",
      build,
    ),
    [build, "-dns.port=1053"],
  );
});

Deno.test("withImageDefaults(): protected-mode is off as in the official image, unless the args or the config file set it", () => {
  assert.deepEqual(withImageDefaults(["redis-server", "--save", ""]), [
    "redis-server",
    "--save",
    "",
    "--protected-mode",
    "no",
  ]);
  const withConfig = ["redis-server", "/etc/redis/redis.conf"];
  assert.deepEqual(withImageDefaults(withConfig, "port 6379\n  protected-mode yes\n"), withConfig);
  assert.deepEqual(withImageDefaults(withConfig, "port 6379\n"), [
    ...withConfig,
    "--protected-mode",
    "no",
  ]);
  const explicit = ["redis-server", "--protected-mode", "yes"];
  assert.deepEqual(withImageDefaults(explicit), explicit);
  assert.deepEqual(withImageDefaults(["sh", "-c", "true"]), ["sh", "-c", "true"]);
});

Deno.test("redisConfigPath() is the first argument of redis-server when it is not an option", () => {
  assert.equal(
    redisConfigPath(["redis-server", "/etc/redis.conf", "--port", "1"]),
    "/etc/redis.conf",
  );
  assert.equal(redisConfigPath(["redis-server", "--port", "1"]), undefined);
  assert.equal(redisConfigPath(["redis-cli", "x"]), undefined);
});

Deno.test("withImageDefaults() and redisConfigPath() treat valkey-server as the images do redis-server", () => {
  // A Valkey build keeps the program's name; Debian's valkey-server defaults to protected mode.
  assert.deepEqual(withImageDefaults(["valkey-server", "--save", ""]), [
    "valkey-server",
    "--save",
    "",
    "--protected-mode",
    "no",
  ]);
  assert.equal(redisConfigPath(["valkey-server", "/etc/valkey.conf"]), "/etc/valkey.conf");
  assert.deepEqual(
    withImageDefaults(["valkey-server", "/etc/valkey.conf"], "protected-mode yes\n"),
    ["valkey-server", "/etc/valkey.conf"],
  );
  assert.deepEqual(withImageDefaults(["valkey-cli", "ping"]), ["valkey-cli", "ping"]);
});
