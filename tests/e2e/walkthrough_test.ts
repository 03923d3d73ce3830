/**
 * The seed README's walkthrough against the operator deployed from deploy/:
 * apply, read the status, lose the master, scale up and down, delete.
 */
import assert from "node:assert/strict";
import {
  clusterClient,
  kubectl,
  redisCli,
  testNamespace,
  waitFor,
  withPortForward,
} from "../cluster/helpers.ts";
import { deployOperator, getRedis, waitForReady } from "./operator.ts";

const example = await Deno.readTextFile(new URL("../../example/redis.yaml", import.meta.url));

Deno.test("the seed walkthrough: apply, failover keeps data, scale, delete", async (t) => {
  const client = await clusterClient();
  await deployOperator(client);
  const ns = await testNamespace("walk");
  const k = (...args: string[]) => kubectl(["-n", ns.name, ...args]);
  try {
    await t.step("kubectl get redis shows the master and 3 of 3", async () => {
      await kubectl(["-n", ns.name, "apply", "-f", "-"], example);
      await waitForReady(client, ns.name, "example");
      const table = await k("get", "redis", "example");
      assert.match(table.split("\n")[0]!, /NAME\s+MASTER\s+REPLICAS\s+DESIRED\s+READY\s+AGE/);
      assert.match(table.split("\n")[1]!, /^example\s+redis-example-\d\s+3\s+3\s+True\s+/);
    });

    await t.step(
      "inside a pod, the master Service's name reaches the master (cluster DNS, kube-proxy)",
      async () => {
        // The first command, as a newcomer types it.
        assert.equal(
          (await k("exec", "redis-example-0", "--", "redis-cli", "ping")).trim(),
          "PONG",
        );
        const exec = (...command: string[]) => k("exec", "redis-example-1", "--", ...command);
        // Every node's kube-proxy applies the Service's endpoints on its own, within its
        // minSyncPeriod: until this pod's node has them, the name is refused.
        const reply = await waitFor(
          "the master Service on this pod's node",
          () => exec("redis-cli", "-h", "redis-example-master", "set", "via", "service"),
          10_000,
        );
        assert.equal(reply.trim(), "OK");
        const master = await waitForReady(client, ns.name, "example");
        assert.equal(await redisCli(master.status!.masterIP!, "GET", "via"), "service");
        // The same name, fully qualified, as applications in other namespaces write it.
        const fqdn = `redis-example-master.${ns.name}.svc.cluster.local`;
        assert.match(await exec("redis-cli", "-h", fqdn, "role"), /^master$/m);
      },
    );

    await t.step("kubectl port-forward to the master pod reaches the master", async () => {
      // Not svc/redis-example-master: kubectl forwards a Service only through its selector,
      // and the master Service has none (the operator writes its EndpointSlice).
      const master = (await getRedis(client, ns.name, "example")).status!.master!;
      const role = await withPortForward(
        ns.name,
        `pod/${master}`,
        "16380:6379",
        () => redisCli("127.0.0.1", "-p", "16380", "GET", "via"),
      );
      assert.equal(role, "service");
    });

    await t.step("kubectl logs of the operator shows its JSON lines", async () => {
      const logs = await kubectl([
        "-n",
        "redis-operator",
        "logs",
        "deploy/redis-operator",
        "--tail=2",
      ]);
      // The pod kubectl picks may be the follower, which has logged little.
      const lines = logs.trimEnd().split("\n");
      assert.ok(lines.length >= 1 && lines.length <= 2, logs);
      for (const line of lines) assert.equal(typeof JSON.parse(line).message, "string", line);
    });

    await t.step(
      "a key set on the master survives deleting the master pod; kubectl logs -f follows the handover",
      async () => {
        const before = await waitForReady(client, ns.name, "example");
        assert.equal(await redisCli(before.status!.masterIP!, "SET", "lol", "woot"), "OK");
        // Both operator pods (the leader does the work), from now on.
        // Deleted once the follow has shown its first line: it is attached by then.
        const handover = JSON.parse(
          await followLogs(
            [
              "-n",
              "redis-operator",
              "logs",
              "-f",
              "--tail=1",
              "-l",
              "app.kubernetes.io/name=redis-operator",
            ],
            (line) => line.includes('"master handed over"') && line.includes(ns.name),
            () => k("delete", "pod", "-l", "redis=example,role=master", "--wait=false"),
          ),
        );
        assert.equal(handover.properties.from, before.status!.master);
        const after = await waitFor("a new master", async () => {
          const redis = await getRedis(client, ns.name, "example");
          return redis.status?.master && redis.status.master !== before.status!.master
            ? redis
            : undefined;
        });
        assert.equal(await redisCli(after.status!.masterIP!, "GET", "lol"), "woot");
        const ready = await waitForReady(client, ns.name, "example");
        const masterPods = await k(
          "get",
          "pods",
          "-l",
          "redis=example,role=master",
          "-o",
          "jsonpath={.items[*].metadata.name}",
        );
        assert.equal(
          masterPods,
          ready.status!.master,
          "exactly the master pod carries role=master",
        );
      },
    );

    await t.step(
      "kubectl scale redis --replicas 4 gives 4 connected instances, and back to 3",
      async () => {
        await k("scale", "redis", "example", "--replicas", "4");
        const four = await waitForReady(client, ns.name, "example", 4);
        assert.equal(four.spec?.replicas, 4);
        assert.match(
          await k("get", "redis", "example", "--no-headers"),
          /^example\s+redis-example-\d\s+4\s+4\s+True/,
        );
        assert.equal(await redisCli(four.status!.masterIP!, "GET", "lol"), "woot");
        await k("scale", "redis", "example", "--replicas", "3");
        await waitForReady(client, ns.name, "example", 3);
      },
    );

    await t.step("deleting the Redis removes everything it owned", async () => {
      await k("delete", "redis", "example", "--wait=true");
      await waitFor("the owned objects to be garbage collected", async () => {
        const left = await k(
          "get",
          "statefulsets,services,configmaps,poddisruptionbudgets,pods",
          "-l",
          "redis=example",
          "-o",
          "name",
        );
        return left.trim() === "" ? true : undefined;
      }, 60_000);
    });
  } finally {
    await ns.remove();
    client.close();
  }
});

/**
 * Runs `kubectl logs -f ...`, calls `attached` once the first line arrives, and
 * resolves with the first line `wanted` accepts (failing after 30 s); the
 * follow is stopped either way.
 */
async function followLogs(
  args: string[],
  wanted: (line: string) => boolean,
  attached: () => Promise<unknown>,
): Promise<string> {
  const child = new Deno.Command("kubectl", { args, stdout: "piped", stderr: "null" }).spawn();
  const timer = setTimeout(() => child.kill("SIGTERM"), 30_000);
  try {
    let pending = "";
    let first = true;
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop()!;
      if (first && lines.length) {
        first = false;
        await attached();
      }
      const line = lines.find(wanted);
      if (line) return line;
    }
    throw new Error(`kubectl ${args.join(" ")} ended without the line wanted`);
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGTERM");
    } catch { /* ended */ }
    await child.status;
  }
}
