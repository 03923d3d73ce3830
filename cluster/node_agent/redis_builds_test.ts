import assert from "node:assert/strict";
import { buildForImage, findRedisBuilds, imageTag, type RedisBuild } from "./redis_builds.ts";

const builds: RedisBuild[] = [
  { flavor: "redis", version: "6.0.16", binDir: "/c/redis-6.0.16/bin" },
  { flavor: "redis", version: "8.0.2", binDir: "/c/redis-8.0.2/bin" },
  { flavor: "redis", version: "8.0.6", binDir: "/c/redis-8.0.6/bin" },
  { flavor: "valkey", version: "8.1.1", binDir: "/c/valkey-8.1.1/bin" },
  { flavor: "valkey", version: "9.1.2", binDir: "/c/valkey-9.1.2/bin" },
];
const chosen = (image: string) => {
  const build = buildForImage(image, builds);
  return build ? `${build.flavor} ${build.version}` : "host";
};

Deno.test("buildForImage() picks the newest build the tag names, as a registry would", () => {
  assert.equal(chosen("redis:8.0"), "redis 8.0.6");
  assert.equal(chosen("redis:8"), "redis 8.0.6");
  assert.equal(chosen("redis:8.0.2"), "redis 8.0.2");
  assert.equal(chosen("docker.io/library/redis:6.0-alpine"), "redis 6.0.16");
  assert.equal(chosen("redis"), "redis 8.0.6");
  assert.equal(chosen("redis:latest"), "redis 8.0.6");
  assert.equal(chosen("valkey/valkey:8"), "valkey 8.1.1");
  assert.equal(chosen("valkey/valkey:9.1"), "valkey 9.1.2");
  assert.equal(chosen("valkey/valkey:latest@sha256:abc"), "valkey 9.1.2");
});

Deno.test("buildForImage() leaves a tag no build has to the host's Redis 7.0", () => {
  assert.equal(chosen("redis:7.0"), "host");
  assert.equal(chosen("redis:7.2"), "host");
  assert.equal(chosen("redis:8.2"), "host");
  assert.equal(chosen("valkey/valkey:7.2"), "host");
  assert.equal(chosen("redis:bookworm"), "host");
  assert.equal(chosen("redis-operator:dev"), "host");
  assert.equal(buildForImage("valkey/valkey:8", []), undefined);
});

Deno.test("imageTag() reads repository and tag past registry, port and digest", () => {
  assert.deepEqual(imageTag("registry.local:5000/valkey/valkey:8.1@sha256:0"), {
    repository: "valkey",
    tag: "8.1",
  });
  assert.deepEqual(imageTag("redis"), { repository: "redis", tag: "latest" });
});

Deno.test("findRedisBuilds() lists finished builds only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/redis-8.0.6/bin`, { recursive: true });
    await Deno.writeTextFile(`${dir}/redis-8.0.6/bin/redis-server`, "");
    await Deno.mkdir(`${dir}/valkey-9.1.2/bin.tmp`, { recursive: true }); // still building
    await Deno.mkdir(`${dir}/.apt-sid`);
    assert.deepEqual(findRedisBuilds(dir), [
      { flavor: "redis", version: "8.0.6", binDir: `${dir}/redis-8.0.6/bin` },
    ]);
    assert.deepEqual(findRedisBuilds(`${dir}/missing`), []);
    assert.deepEqual(findRedisBuilds(undefined), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
