import assert from "node:assert/strict";
import { buildAclBackup, buildAclSecret, readAclBackup, readAclSecretData } from "./acl_secret.ts";

const redis = { metadata: { name: "cache", namespace: "ns", uid: "u1" } };
const passwords = { operator: "o", replication: "r", exporter: "e" };

Deno.test("the operator's ACL Secret reads back what it was built from", () => {
  const data = { passwords, startup: "user a on\n", users: ["b", "a"], defaultUserOff: true };
  const secret = buildAclSecret(redis, data);
  assert.equal(secret.metadata?.name, "redis-cache-acl");
  assert.deepEqual(readAclSecretData(secret), { ...data, users: ["a", "b"] });
  assert.deepEqual(readAclSecretData(buildAclSecret(redis, { passwords })), { passwords });
  assert.equal(readAclSecretData({ data: {} }), undefined, "no passwords: new ones are made");
});

Deno.test("the passwords' backup lives in redis-NAME under keys of its own", () => {
  const backup = buildAclBackup(redis, passwords);
  assert.equal(backup.metadata?.name, "redis-cache");
  assert.deepEqual(Object.keys(backup.data ?? {}).sort(), [
    "acl-exporter-password",
    "acl-operator-password",
    "acl-replication-password",
  ]);
  assert.deepEqual(readAclBackup(backup), passwords);
  assert.equal(readAclBackup(undefined), undefined);
});
