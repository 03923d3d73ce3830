/**
 * TLS (issue 11): with `spec.tls` naming a Secret of cert-manager's shape,
 * Redis serves TLS on 6380 with the plain port closed, replicas sync over TLS,
 * the operator, probes and preStop hook speak TLS (a Ready Redis proves it),
 * a client with the CA reaches the master and one without it is refused, and
 * a renewed certificate is served by the running instances without a restart
 * or a failover while writes keep flowing.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { tlsOptions } from "../../src/redis/client.ts";
import {
  clusterClient,
  kubectl,
  kubectlStatus,
  testNamespace,
  waitFor,
} from "../cluster/helpers.ts";
import { longestGap, lostWrites, WriteLoad } from "../chaos/write_load.ts";
import { deployOperator, getRedis, redisManifest, waitForReady } from "./operator.ts";

const password = "tls-and-a-password";

Deno.test("TLS: served on 6380 and replicated over it; a renewed certificate is loaded live under writes", async () => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("tls");
  const n = ns.name;
  const dir = await Deno.makeTempDir({ prefix: "tls-" });
  try {
    const names = [
      `*.redis-secure-headless.${n}.svc.cluster.local`,
      `redis-secure-master.${n}.svc`,
    ];
    await makeCa(dir, "test-ca");
    const firstSerial = await issue(dir, names);
    await applyCerts(n, dir);
    await kubectl([
      "-n",
      n,
      "create",
      "secret",
      "generic",
      "pw",
      `--from-literal=password=${password}`,
    ]);
    await kubectl(
      ["-n", n, "apply", "-f", "-"],
      redisManifest("secure", {
        tls: { secretName: "certs" },
        password: { secretKeyRef: { name: "pw", key: "password" } },
        exporter: { image: "oliver006/redis_exporter:v1.45.0" },
      }),
    );
    // Ready with 3: the replicas synced through the only open port, over TLS.
    const ready = await waitForReady(client, n, "secure", 3, 120_000);
    const masterIP = ready.status!.masterIP!;
    const ca = await Deno.readTextFile(`${dir}/ca.crt`);

    // A client with the CA writes to the master; the master's replicas came over TLS.
    const good = connect(masterIP, 6380, { tls: tlsOptions({ ca }) });
    try {
      await good.connect();
      assert.equal(await good.set("tls:check", "yes"), "OK");
      const info = await good.info("replication");
      assert.match(info, /connected_slaves:2/);
      assert.equal([...info.matchAll(/slave\d+:ip=[^,]+,port=6380,/g)].length, 2, info);
    } finally {
      good.disconnect();
    }
    // Without the CA the server's certificate is not trusted; the plain port is closed.
    const stranger = connect(masterIP, 6380, { tls: {} });
    await assert.rejects(stranger.connect());
    stranger.disconnect();
    const plain = connect(masterIP, 6379, {});
    await assert.rejects(plain.connect());
    plain.disconnect();
    assert.equal(await servedSerial(dir, masterIP), firstSerial);

    // Renewal under writes: same CA, a new certificate, picked up by every running instance.
    const pods = async () =>
      JSON.parse(await kubectl(["-n", n, "get", "pods", "-l", "redis=secure", "-o", "json"]))
        .items as Pod[];
    const before = await pods();
    const reach = { port: 6380, ca };
    const load = new WriteLoad(client, n, "redis-secure-master", password, reach);
    await load.start();
    await new Promise((r) => setTimeout(r, 1000));
    const renewedSerial = await issue(dir, names);
    assert.notEqual(renewedSerial, firstSerial);
    const renewedAt = Date.now();
    await applyCerts(n, dir);
    const ips = before.map((p) => p.status!.podIP!);
    await waitFor("every instance serving the renewed certificate", async () => {
      const serials = await Promise.all(ips.map((ip) => servedSerial(dir, ip)));
      return serials.every((s) => s === renewedSerial) || undefined;
    }, 120_000);
    const servedAfterMs = Date.now() - renewedAt;
    await new Promise((r) => setTimeout(r, 1000));
    const report = await load.stop();
    const after = await getRedis(client, n, "secure");
    assert.equal(after.status?.epoch, ready.status?.epoch, "no failover");
    const now = await pods();
    assert.deepEqual(
      now.map((p) => [p.metadata!.uid, p.status!.containerStatuses![0]!.restartCount]),
      before.map((p) => [p.metadata!.uid, p.status!.containerStatuses![0]!.restartCount]),
      "no pod replaced or restarted",
    );
    assert.deepEqual(await lostWrites(masterIP, report.acks, password, "load", reach), []);
    const gap = longestGap(report.acks);
    assert.ok(gap.ms < 1000, `writes kept flowing: longest pause ${gap.ms} ms`);
    // A new CA: the kubelet writes ca.crt before Redis serves a certificate it signed. Neither
    // the probes nor the operator may take that moment for a dead instance.
    await Deno.rename(`${dir}/ca.crt`, `${dir}/old-ca.crt`);
    await Deno.rename(`${dir}/ca.key`, `${dir}/old-ca.key`);
    await makeCa(dir, "test-ca-2");
    const newCa = await Deno.readTextFile(`${dir}/ca.crt`);
    const bothCas = { port: 6380, ca: `${newCa}\n${ca}` };
    const load2 = new WriteLoad(client, n, "redis-secure-master", password, bothCas);
    await load2.start();
    await new Promise((r) => setTimeout(r, 1000));
    const newCaSerial = await issue(dir, names);
    const rotatedAt = Date.now();
    await applyCerts(n, dir);
    await waitFor("every instance serving the certificate of the new CA", async () => {
      const serials = await Promise.all(ips.map((ip) => servedSerial(dir, ip)));
      return serials.every((s) => s === newCaSerial) || undefined;
    }, 120_000);
    const caServedAfterMs = Date.now() - rotatedAt;
    // Longer than the liveness probe's failure window (3 x 5 s) after the new files landed.
    await new Promise((r) => setTimeout(r, 16_000));
    const report2 = await load2.stop();
    assert.equal(
      (await getRedis(client, n, "secure")).status?.epoch,
      ready.status?.epoch,
      "no failover",
    );
    assert.deepEqual(
      (await pods()).map((p) => [p.metadata!.uid, p.status!.containerStatuses![0]!.restartCount]),
      before.map((p) => [p.metadata!.uid, p.status!.containerStatuses![0]!.restartCount]),
      "no pod replaced or restarted by the CA rotation",
    );
    assert.deepEqual(await lostWrites(masterIP, report2.acks, password, "load", bothCas), []);
    const gap2 = longestGap(report2.acks);
    assert.ok(gap2.ms < 1000, `writes kept flowing through the CA rotation: ${gap2.ms} ms`);
    console.log(
      `TLS CA rotation: served ${caServedAfterMs} ms after the Secret changed; ${report2.acks.length} writes, none lost, longest pause ${gap2.ms} ms`,
    );

    // The exporter reads its Redis over TLS too.
    const metrics = await (await fetch(`http://${masterIP}:9121/metrics`)).text();
    assert.match(metrics, /^redis_up 1$/m);

    // TLS cannot be switched off on a running Redis (old and new pods could not replicate).
    const off = await kubectlStatus([
      "-n",
      n,
      "patch",
      "redis",
      "secure",
      "--type=json",
      "-p",
      '[{"op":"remove","path":"/spec/tls"}]',
    ]);
    assert.notEqual(off.code, 0);
    assert.match(off.stderr, /spec.tls cannot be added to or removed from an existing Redis/);

    // Plain and TLS side by side: a rolling update, the master handed over through TLS.
    await kubectl([
      "-n",
      n,
      "patch",
      "redis",
      "secure",
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { tls: { secretName: "certs", plaintext: true } } }),
    ]);
    const rolled = await waitFor("every pod replaced with the plain port open", async () => {
      const redis = await waitForReady(client, n, "secure", 3, 180_000);
      const current = await pods();
      const open = current.every((p) =>
        p.spec?.containers[0]?.ports?.some((port) => port.containerPort === 6379)
      );
      return open && current.every((p) => !before.some((b) => b.metadata?.uid === p.metadata?.uid))
        ? redis
        : undefined;
    }, 240_000);
    assert.equal(rolled.status!.epoch, ready.status!.epoch! + 1, "one planned handover");
    const bothWays = connect(rolled.status!.masterIP!, 6379, {});
    try {
      await bothWays.connect();
      assert.equal(await bothWays.get("tls:check"), "yes", "plain clients see the same data");
    } finally {
      bothWays.disconnect();
    }
    const service = JSON.parse(
      await kubectl(["-n", n, "get", "service", "redis-secure-master", "-o", "json"]),
    );
    assert.deepEqual(
      service.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port]),
      [["redis", 6379], ["redis-tls", 6380]],
    );
    console.log(
      `TLS renewal: every instance served the new certificate ${servedAfterMs} ms after the Secret changed; ${report.acks.length} writes, none lost, longest pause ${gap.ms} ms, ${report.failures} failed`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await ns.remove();
    client.close();
  }
});

/** An ioredis client that never retries, over TLS when `options.tls` is set. */
function connect(host: string, port: number, options: { tls?: Record<string, unknown> }): Redis {
  const redis = new Redis({
    host,
    port,
    password,
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  redis.on("error", () => {});
  return redis;
}

/** Runs openssl in `dir`; throws with its output on failure. */
async function openssl(dir: string, ...args: string[]): Promise<string> {
  const output = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(output.stderr)}`);
  }
  return text;
}

/** Makes a CA (ca.crt, ca.key) in `dir` named `name`. */
async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
  );
}

/** Issues tls.crt/tls.key for `names` from the CA in `dir`; returns its serial. */
async function issue(dir: string, names: string[]): Promise<string> {
  await openssl(
    dir,
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=redis",
    "-keyout",
    "tls.key",
    "-out",
    "tls.csr",
  );
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}\n`,
  );
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "tls.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    "ext.cnf",
    "-out",
    "tls.crt",
  );
  return serialOf(await openssl(dir, "x509", "-in", "tls.crt", "-noout", "-serial"));
}

/** Creates or updates Secret `certs` from the files in `dir`, as cert-manager would write it. */
async function applyCerts(namespace: string, dir: string): Promise<void> {
  const files = ["tls.crt", "tls.key", "ca.crt"].map((f) => `--from-file=${f}=${dir}/${f}`);
  const manifest = await kubectl(
    [
      "-n",
      namespace,
      "create",
      "secret",
      "generic",
      "certs",
      ...files,
      "--dry-run=client",
      "-o",
      "json",
    ],
  );
  await kubectl(["-n", namespace, "apply", "-f", "-"], manifest);
}

function serialOf(text: string): string {
  return text.match(/serial=([0-9A-F]+)/)?.[1] ?? "";
}

/** The serial of the certificate the instance at `ip` serves on 6380. */
async function servedSerial(dir: string, ip: string): Promise<string> {
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `echo | timeout 5 openssl s_client -connect ${ip}:6380 -CAfile ca.crt 2>/dev/null | openssl x509 -noout -serial`,
    ],
    cwd: dir,
    stdout: "piped",
    stderr: "null",
  });
  return serialOf(new TextDecoder().decode((await child.output()).stdout));
}
