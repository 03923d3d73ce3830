import assert from "node:assert/strict";
import { Redis as IORedis } from "ioredis";
import { specProblems } from "../../src/api/validation.ts";
import { renderRedisConf } from "../../src/specs/config_map.ts";
import { trickSpellings } from "../fixtures/directive_spellings.ts";
import { freePort, until } from "./redis_server.ts";

/** Starts redis-server on `conf` (loopback); undefined when it refuses the file. */
async function readBack(conf: string, directive: string): Promise<string | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "redis-conf-test-" });
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/redis.conf`,
    `${conf}port ${port}\nbind 127.0.0.1\ndir ${dir}\nsave ""\n`,
  );
  const child = new Deno.Command("redis-server", {
    args: [`${dir}/redis.conf`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const client = new IORedis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    const started = await Promise.race([
      until(async () => {
        try {
          await client.connect();
          return true;
        } catch {
          return false;
        }
      }, 3000).then(() => true, () => false),
      child.status.then(() => false),
    ]);
    if (!started) return undefined;
    const reply = await client.call("CONFIG", "GET", directive) as string[];
    return reply[1];
  } finally {
    client.disconnect();
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("every spelling Redis reads as min-replicas-max-lag is refused before it reaches redis.conf", async () => {
  const read: string[] = [];
  for (const spelling of trickSpellings("min-replicas-max-lag")) {
    const redis = {
      metadata: { name: "x", namespace: "y" },
      spec: { config: { [spelling]: "0" } },
    };
    // What today's renderer writes: a fenced conf where the user's line comes last.
    const conf = renderRedisConf(redis).replace(/^(port|bind|dir|save) .*\n/gm, "");
    if (await readBack(conf, "min-replicas-max-lag") === "0") read.push(JSON.stringify(spelling));
    assert.ok(specProblems(redis).length > 0, `${JSON.stringify(spelling)} must be refused`);
  }
  // The trick is real: Redis takes several of these spellings for the directive.
  console.log(`Redis read as the directive: ${read.join(", ")}`);
  assert.ok(read.length >= 5, `Redis read only ${read.join(", ")} as the directive`);
});

Deno.test("values Redis cannot split are refused, and values it reads are not", async () => {
  const conf = (value: string) => `dbfilename ${value}\n`;
  for (const value of ['"unbalanced', "'x", '"a"b']) {
    const redis = {
      metadata: { name: "x", namespace: "y" },
      spec: { config: { dbfilename: value } },
    };
    assert.equal(await readBack(conf(value), "dbfilename"), undefined, `Redis refuses ${value}`);
    assert.ok(specProblems(redis).length > 0, `${value} must be refused`);
  }
  for (const value of ['"quoted value.rdb"', "'single.rdb'", '"esc \\" quote.rdb"']) {
    const redis = {
      metadata: { name: "x", namespace: "y" },
      spec: { config: { dbfilename: value } },
    };
    assert.notEqual(await readBack(conf(value), "dbfilename"), undefined, `Redis reads ${value}`);
    assert.deepEqual(specProblems(redis), [], `${value} is fine`);
  }
});
