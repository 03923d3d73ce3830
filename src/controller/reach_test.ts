import assert from "node:assert/strict";
import type { Redis } from "../api/redis.ts";
import type { Apis } from "./deps.ts";
import { forgetReach, readReach } from "./reach.ts";

const b64 = (text: string) => btoa(text);
const redis: Redis = {
  metadata: { name: "r", namespace: "n", uid: "reach-test" },
  spec: { tls: { secretName: "certs" } },
};

/** Answers `secrets.get` with each of `answers` in turn (an Error is thrown). */
function secrets(...answers: Array<Record<string, string> | Error>) {
  let i = 0;
  return {
    apis: {
      secrets: {
        get: () => {
          const answer = answers[Math.min(i++, answers.length - 1)]!;
          if (answer instanceof Error) return Promise.reject(answer);
          return Promise.resolve({ data: answer });
        },
      },
    } as unknown as Apis,
  };
}

const certs = (ca: string) => ({ "tls.crt": b64("c"), "tls.key": b64("k"), "ca.crt": b64(ca) });

Deno.test("readReach(): after a CA rotation both CAs are trusted; an unreadable Secret keeps them", async () => {
  forgetReach("reach-test");
  const deps = secrets(certs("CA-1"), certs("CA-2"), new Error("connection refused"));
  assert.deepEqual((await readReach(deps, redis)).reach, { port: 6380, tls: { ca: "CA-1" } });
  const rotated = await readReach(deps, redis);
  assert.deepEqual(rotated.reach, { port: 6380, tls: { ca: "CA-2\nCA-1" } });
  const failed = await readReach(deps, redis);
  assert.deepEqual(failed.reach, rotated.reach);
  assert.equal(failed.problem?.reason, "SecretUnreadable");
  assert.doesNotMatch(failed.problem!.message, /CA-/);
  forgetReach("reach-test");
});

Deno.test("readReach(): no CA ever read means no reach; a Secret without ca.crt says what it lacks", async () => {
  forgetReach("reach-test");
  const missing = await readReach(secrets({ "tls.crt": b64("c"), "tls.key": b64("k") }), redis);
  assert.equal(missing.reach, undefined);
  assert.equal(missing.problem?.reason, "TLSSecretInvalid");
  assert.match(missing.problem!.message, /has no ca\.crt/);
  assert.deepEqual(
    (await readReach(secrets(), { metadata: { name: "p" }, spec: {} })).reach,
    { port: 6379 },
  );
});
