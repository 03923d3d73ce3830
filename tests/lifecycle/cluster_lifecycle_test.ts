/**
 * `cluster up` and `cluster down` of a separate cluster: `down` leaves no
 * process, network namespace, interface or state behind, and `up` repairs a
 * half-started cluster. Runs in the machine's own namespace; it only starts
 * the CLI and inspects /proc and /run/netns, it never sends to pod addresses.
 */
import assert from "node:assert/strict";
import { belongsToCluster, clusterLayout, clusterNodes } from "../../cluster/lib/layout.ts";
import { isAlive, listNetns, netnsInode, pidsInNetns } from "../../cluster/lib/netns.ts";
import { buildComponents } from "../../cluster/lib/control_plane.ts";
import { runningPid, startDaemon } from "../../cluster/lib/daemon.ts";

const layout = clusterLayout("lifecycle-test");
// Two nodes: enough to show that every node's namespace, link and daemons go too.
const topology = { nodes: 2, zones: 2 };
const componentNames = buildComponents(layout, clusterNodes(layout, topology), "", "").map((c) =>
  c.name
);
const cli = `${layout.repoDir}/cluster/cli.ts`;

async function cluster(...args: string[]): Promise<{ code: number; output: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, ...args, `--name=${layout.name}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

async function rootLinks(): Promise<string[]> {
  const output = await new Deno.Command("ip", { args: ["-o", "link", "show"], stdout: "piped" })
    .output();
  return new TextDecoder().decode(output.stdout).split("\n").map((l) =>
    l.split(":")[1]?.trim() ?? ""
  )
    .filter(Boolean).sort();
}

const ours = (names: string[]) => names.filter((n) => belongsToCluster(layout, n));

Deno.test("cluster down after up leaves nothing behind; up repairs a half-started cluster", async (t) => {
  const linksBefore = await rootLinks();
  try {
    await t.step("up starts every component and a pod", async () => {
      const up = await cluster("up", `--nodes=${topology.nodes}`);
      assert.equal(up.code, 0, up.output);
      for (const name of componentNames) assert.ok(runningPid(layout.pidDir, name), `${name} runs`);
      const pod = await cluster(
        "exec",
        "--",
        "sh",
        "-c",
        "kubectl run lonely --image=redis:7.0 && kubectl wait --for=condition=Ready pod/lonely --timeout=60s && kubectl -n kube-system rollout status deployment/coredns --timeout=60s",
      );
      assert.equal(pod.code, 0, pod.output);
      assert.equal(
        ours(await listNetns()).length,
        6,
        "the cluster namespace, two nodes', CoreDNS's two pods' namespaces and the new pod's",
      );
      const changed = await cluster("up", "--nodes=3");
      assert.notEqual(changed.code, 0, "a running cluster does not change its number of nodes");
      assert.match(changed.output, /has 2 nodes in 2 zones/);
    });

    await t.step("up is idempotent and restarts a component that died", async () => {
      Deno.kill(runningPid(layout.pidDir, "kube-scheduler")!, "SIGKILL");
      await waitUntil(() => runningPid(layout.pidDir, "kube-scheduler") === undefined);
      const status = await cluster("status");
      assert.equal(status.code, 1);
      assert.match(status.output, /half-started/);
      const up = await cluster("up");
      assert.equal(up.code, 0, up.output);
      assert.match(up.output, /started kube-scheduler/);
      assert.doesNotMatch(up.output, /started etcd/, "running components are left alone");
    });

    await t.step("a node agent started while the API server is frozen waits for it", async () => {
      // Started as `up` starts it, but directly: `up` itself waits for the API server first.
      const agent = buildComponents(layout, clusterNodes(layout, topology), "", Deno.execPath())
        .find((c) => c.kind === "node-agent")!;
      const log = `${layout.logDir}/${agent.name}.log`;
      const registrations = () =>
        Deno.readTextFileSync(log).split("\n").filter((l) => l.includes('"node registered"'))
          .length;
      const before = registrations();
      Deno.kill(runningPid(layout.pidDir, agent.name)!, "SIGKILL");
      await waitUntil(() => runningPid(layout.pidDir, agent.name) === undefined);
      const apiServer = runningPid(layout.pidDir, "kube-apiserver")!;
      Deno.kill(apiServer, "SIGSTOP");
      try {
        startDaemon(agent, layout.pidDir, layout.logDir);
        // Past its first request's timeout (10 s): an agent that gave up has exited by now.
        await new Promise((r) => setTimeout(r, 12_000));
      } finally {
        Deno.kill(apiServer, "SIGCONT");
      }
      await waitUntil(() => registrations() > before, 20_000);
      assert.ok(runningPid(layout.pidDir, agent.name), `${agent.name} still runs`);
    });

    await t.step(
      "down stops every process and removes namespaces, interfaces and state",
      async () => {
        const inodes = new Set(
          ours(await listNetns()).map(netnsInode).filter((i): i is number => i !== undefined),
        );
        const pids = pidsInNetns(inodes);
        assert.ok(pids.length >= componentNames.length + 1, `processes found: ${pids.length}`);
        const down = await cluster("down");
        assert.equal(down.code, 0, down.output);
        assert.deepEqual(pids.filter(isAlive), [], "no process survives");
        assert.deepEqual(ours(await listNetns()), [], "no network namespace survives");
        assert.deepEqual(
          await rootLinks(),
          linksBefore,
          "no interface is left in the machine's namespace",
        );
        await assert.rejects(Deno.stat(layout.stateDir), Deno.errors.NotFound);
      },
    );
  } finally {
    await cluster("down");
  }
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}
