import assert from "node:assert/strict";
import type { Redis } from "../api/redis.ts";
import { buildConfigMap, renderRedisConf } from "./config_map.ts";

const redis: Redis = {
  metadata: { name: "cache", namespace: "prod", uid: "u" },
  spec: { config: { maxmemory: "64mb", save: "900 1" } },
};

Deno.test("renderRedisConf() sets the operator's directives, fencing, then the user's, theirs winning", () => {
  const conf = renderRedisConf(redis);
  assert.match(conf, /^port 6379$/m);
  assert.match(conf, /^min-replicas-to-write 1$/m);
  assert.match(conf, /^min-replicas-max-lag 2$/m);
  assert.match(conf, /^repl-ping-replica-period 1$/m);
  assert.match(conf, /^maxmemory 64mb$/m);
  assert.match(conf, /^save 900 1$/m);
  assert.doesNotMatch(conf, /^save ""$/m, "the user's save replaces the default");
});

Deno.test("renderRedisConf() follows spec.failover, 0 turning fencing off", () => {
  const conf = renderRedisConf({
    ...redis,
    spec: { failover: { minReplicasToWrite: 0, minReplicasMaxLagSeconds: 5 } },
  });
  assert.match(conf, /^min-replicas-to-write 0$/m);
  assert.match(conf, /^min-replicas-max-lag 5$/m);
});

Deno.test("buildConfigMap() records the master address the start script reads", () => {
  const map = buildConfigMap(redis, "198.18.1.7");
  assert.equal(map.data?.master, "198.18.1.7");
  assert.match(
    map.data?.["start.sh"] ?? "",
    /--replicaof 127\.0\.0\.1 1/,
    "a restarted master waits as a replica of nobody",
  );
  assert.doesNotMatch(
    map.data?.["redis.conf"] ?? "",
    /requirepass|masterauth/,
    "the password goes in at start, from the Secret",
  );
});

Deno.test("the default fencing is a majority: 1 replica for 3 instances, 2 for 4 and 5, 3 for 6", () => {
  const conf = (replicas: number) =>
    renderRedisConf({ ...redis, spec: { ...redis.spec, replicas } });
  assert.match(conf(3), /^min-replicas-to-write 1$/m);
  assert.match(conf(4), /^min-replicas-to-write 2$/m);
  assert.match(conf(5), /^min-replicas-to-write 2$/m);
  assert.match(conf(6), /^min-replicas-to-write 3$/m);
});

Deno.test("renderRedisConf() with spec.tls: TLS on 6380 and for replication, the plain port closed unless kept", () => {
  const tls = renderRedisConf({ ...redis, spec: { tls: { secretName: "certs" } } });
  assert.match(tls, /^port 0$/m);
  assert.match(tls, /^tls-port 6380$/m);
  assert.match(tls, /^tls-cert-file \/etc\/redis-tls\/tls\.crt$/m);
  assert.match(tls, /^tls-key-file \/etc\/redis-tls\/tls\.key$/m);
  assert.match(tls, /^tls-ca-cert-file \/etc\/redis-tls\/ca\.crt$/m);
  assert.match(tls, /^tls-replication yes$/m);
  assert.match(tls, /^tls-auth-clients no$/m);
  const both = renderRedisConf({
    ...redis,
    spec: { tls: { secretName: "certs", plaintext: true } },
  });
  assert.match(both, /^port 6379$/m);
  assert.match(both, /^tls-port 6380$/m);
  assert.doesNotMatch(renderRedisConf(redis), /tls-/);
});
