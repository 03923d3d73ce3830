/**
 * `deno task cluster <command>`: a real Kubernetes control plane and a node
 * agent that runs pods as processes, all inside network namespaces of ours.
 *
 *   up | demo | down | status | kubectl ARGS | exec -- CMD | fault ACTION NS/POD
 *
 * @module
 */
import { buildComponents, type Component } from "./lib/control_plane.ts";
import { createClusterNetwork, cutNode, isNodeCut, restoreNode } from "./lib/cluster_network.ts";
import { ensureClusterDns } from "./lib/cluster_dns.ts";
import { logTail, runningPid, startDaemon } from "./lib/daemon.ts";
import {
  belongsToCluster,
  type ClusterLayout,
  clusterLayout,
  clusterNodes,
  defaultTopology,
  network,
  type NodeLayout,
  readTopology,
  recordedNodes,
  type Topology,
  topologyProblem,
} from "./lib/layout.ts";
import {
  deleteNetns,
  inNetnsWithResolvConf,
  ipIn,
  isAlive,
  listNetns,
  netnsExists,
  netnsInode,
  pidsInNetns,
} from "./lib/netns.ts";
import { readPid } from "./lib/daemon.ts";
import { ensurePki, writeKubeconfig } from "./lib/pki.ts";
import { run } from "./lib/run.ts";
import { podResolvConf } from "./node_agent/pod_dns.ts";
import { newestPodRecord, type PodRecord } from "./node_agent/pod_record.ts";
import { waitForComponent } from "./lib/readiness.ts";
import { cutPodFrom, restorePodCut } from "./lib/pod_cut.ts";
import { removeCgroups } from "./node_agent/cgroups.ts";

const usage = `Usage: deno task cluster <command> [--name NAME]

  up [--nodes N] [--zones Z]
                         build if needed, start the cluster (3 nodes in 3 zones unless
                         told otherwise), wait until every Node is Ready
  demo [--nodes N] [--zones Z]
                         up, deploy the operator and the example Redis, show what to try
  down                   stop every process, remove every namespace, interface and state
  status                 show components, nodes and pods
  kubectl ARGS...        the built kubectl against this cluster (also: deno task kubectl)
  exec -- CMD...         run CMD where the API server and pod IPs are reachable,
                         with KUBECONFIG set and kubectl on PATH
  fault ACTION NS/POD    ACTION: kill (SIGKILL), stop (SIGSTOP), cont (SIGCONT),
                         isolate (cut the pod's network), heal (restore it and
                         lift any cut)
  fault cut NS/POD IP[,IP...]
                         drop the pod's packets to and from these addresses only
                         (an asymmetric partition); heal lifts it
  fault ACTION NODE      ACTION: node-down (power loss: every process of the node dies,
                         its link drops everything), node-partition (the link drops
                         everything, the node runs on), node-up (back, as after a reboot)
  fault ACTION ZONE      ACTION: zone-down, zone-partition, zone-up: the same for every
                         node of the zone (zone-a, zone-b, ...)
`;

/** Thrown for problems the user can fix; printed without a stack trace. */
class UserError extends Error {}

/** Removes `--nodes N` and `--zones Z` from `argv`; returns what they ask for, if anything. */
function takeTopology(argv: string[]): Partial<Topology> {
  const take = (flag: string): number | undefined => {
    const at = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    if (at < 0) return undefined;
    const arg = argv[at]!;
    const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[at + 1];
    argv.splice(at, arg.includes("=") ? 1 : 2);
    return Number(value);
  };
  const nodes = take("--nodes");
  const zones = take("--zones");
  return { ...(nodes === undefined ? {} : { nodes }), ...(zones === undefined ? {} : { zones }) };
}

/**
 * The topology `up` builds: what the cluster already has, else what is asked
 * for (zones default to one per node), else the default. A running cluster
 * cannot change shape.
 */
function chooseTopology(layout: ClusterLayout, asked: Partial<Topology>): Topology {
  const recorded = readTopology(layout);
  const nodes = asked.nodes ?? recorded?.nodes ?? defaultTopology.nodes;
  const wanted = { nodes, zones: asked.zones ?? (asked.nodes ? nodes : recorded?.zones ?? nodes) };
  const problem = topologyProblem(wanted);
  if (problem) throw new UserError(problem);
  if (recorded && (recorded.nodes !== wanted.nodes || recorded.zones !== wanted.zones)) {
    throw new UserError(
      `Cluster ${layout.name} has ${recorded.nodes} nodes in ${recorded.zones} zones: run \`deno task cluster down\` first to change that`,
    );
  }
  return wanted;
}

async function main(argv: string[]): Promise<number> {
  const nameIndex = argv.findIndex((a) => a === "--name" || a.startsWith("--name="));
  let name = Deno.env.get("ROP_CLUSTER") ?? "local";
  if (nameIndex >= 0) {
    const arg = argv[nameIndex]!;
    name = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[nameIndex + 1] ?? "";
    argv.splice(nameIndex, arg.includes("=") ? 1 : 2);
  }
  const layout = clusterLayout(name);
  const asked = takeTopology(argv);
  const [command, ...rest] = argv;
  switch (command) {
    case "up":
      await up(layout, asked);
      return 0;
    case "demo":
      await up(layout, asked);
      await demo(layout);
      return 0;
    case "down":
      await down(layout);
      return 0;
    case "status":
      return await status(layout);
    case "kubectl":
      return await execInside(layout, [`${await binDir(false)}/kubectl`, ...rest]);
    case "exec":
      return await execInside(layout, rest[0] === "--" ? rest.slice(1) : rest);
    case "fault":
      await fault(layout, rest[0], rest[1], rest[2]);
      return 0;
    case "__start":
      await startInside(layout);
      return 0;
    default:
      console.log(usage);
      return command === undefined || command === "help" || command === "--help" ? 0 : 2;
  }
}

function requireRoot(): void {
  if (Deno.uid() !== 0) {
    throw new UserError(
      "The local cluster needs root: it creates network namespaces and runs pods in them. Run again as root (e.g. with sudo).",
    );
  }
}

async function requireTools(): Promise<void> {
  const missing: string[] = [];
  for (const tool of ["ip", "openssl", "nsenter", "unshare", "redis-server", "nft", "sysctl"]) {
    const found = await run(["sh", "-c", `command -v ${tool}`], { allowFailure: true });
    if (!found.trim()) missing.push(tool);
  }
  if (missing.length) {
    throw new UserError(
      `Missing programs: ${
        missing.join(", ")
      }: install them (Debian: apt-get install iproute2 openssl util-linux redis-server nftables procps)`,
    );
  }
}

/** Builds the control-plane binaries when they are not cached; returns their folder. */
async function binDir(build: boolean): Promise<string> {
  const script = `${clusterLayout().repoDir}/cluster/build/build.sh`;
  const child = new Deno.Command(script, {
    args: build ? [] : ["--print"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const output = await child.output();
  if (!output.success) throw new UserError("Building the Kubernetes binaries failed (see above)");
  return new TextDecoder().decode(output.stdout).trim();
}

/**
 * Where cluster/build/redis_versions.sh caches Redis and Valkey builds; the
 * node agents run images with the builds they find there (none built here:
 * the demo needs only the host's Redis, and the build takes minutes).
 */
async function redisBuildsDir(): Promise<string> {
  const script = `${clusterLayout().repoDir}/cluster/build/redis_versions.sh`;
  const output = await new Deno.Command(script, { args: ["--print"], stdout: "piped" }).output();
  if (!output.success) throw new UserError("cluster/build/redis_versions.sh --print failed");
  return new TextDecoder().decode(output.stdout).trim();
}

async function up(layout: ClusterLayout, asked: Partial<Topology> = {}): Promise<void> {
  requireRoot();
  await requireTools();
  const topology = chooseTopology(layout, asked);
  const nodes = clusterNodes(layout, topology);
  const bin = await binDir(true);
  // Pods run without a network route out, so every module the operator and the
  // node agent import must be in the Deno cache before they start.
  await run([
    Deno.execPath(),
    "cache",
    `${layout.repoDir}/main.ts`,
    `${layout.repoDir}/cluster/node_agent/main.ts`,
  ]);
  await requireBridgeNetfilter();
  await createClusterNetwork(layout, nodes);
  await Deno.mkdir(layout.stateDir, { recursive: true });
  await Deno.writeTextFile(layout.topologyFile, JSON.stringify(topology) + "\n");
  const pki = await ensurePki(layout.pkiDir, nodes);
  await writeKubeconfig(layout.kubeconfig, layout.apiServerUrl, pki, layout.name);
  const started = Date.now();
  const code = await new Deno.Command("nsenter", {
    args: [
      ...daemonMountNamespace(layout),
      `--net=/run/netns/${layout.netns}`,
      "--",
      Deno.execPath(),
      "run",
      "-A",
      import.meta.filename!,
      "__start",
      `--name=${layout.name}`,
    ],
    env: { BIN_DIR: bin, REDIS_BUILDS_DIR: await redisBuildsDir() },
    stdin: "null",
  }).spawn().status;
  if (!code.success) throw new UserError(`Cluster ${layout.name} did not start (see above)`);
  console.log(
    `Cluster ${layout.name} is up with ${topology.nodes} nodes in ${topology.zones} zones (${
      ((Date.now() - started) / 1000).toFixed(1)
    } s).`,
  );
  console.log(`  deno task kubectl get nodes        (or: deno task cluster exec -- <command>)`);
  console.log(`  KUBECONFIG=${layout.kubeconfig} inside network namespace ${layout.netns}`);
}

/**
 * nsenter's argument for the mount namespace the running control plane lives
 * in, if it runs: `fault node-up` from a test runs inside `cluster exec`'s own
 * mount namespace, and a node agent started there would mount its pods'
 * network namespaces where nobody else sees them.
 */
function daemonMountNamespace(layout: ClusterLayout): string[] {
  const pid = runningPid(layout.pidDir, "kube-apiserver") ?? runningPid(layout.pidDir, "etcd");
  return pid === undefined ? [] : [`--mount=/proc/${pid}/ns/mnt`];
}

/** Deploys the operator from deploy/, applies the example and waits until it is Ready. */
async function demo(layout: ClusterLayout): Promise<void> {
  const kubectl = `${await binDir(false)}/kubectl`;
  const step = async (what: string, args: string[]) => {
    console.log(`\n$ kubectl ${args.join(" ")}`);
    const code = await execInside(layout, [kubectl, ...args]);
    if (code !== 0) throw new UserError(`The demo stopped: ${what} failed (see above)`);
  };
  await step("deploying the operator", ["apply", "-k", `${layout.repoDir}/deploy`]);
  await step("waiting for the operator", [
    "-n",
    "redis-operator",
    "rollout",
    "status",
    "deployment/redis-operator",
    "--timeout=120s",
  ]);
  await step("applying the example", ["apply", "-f", `${layout.repoDir}/example/redis.yaml`]);
  await step("waiting for the example", [
    "wait",
    "redis/example",
    "--for=condition=Ready",
    "--timeout=120s",
  ]);
  await step("showing it", ["get", "redis,pods", "-L", "role", "-o", "wide"]);
  const flag = layout.name === "local" ? "" : ` --name ${layout.name}`;
  console.log(`
The example Redis is up. Try next:
  deno task kubectl get redis                                  # MASTER, REPLICAS, DESIRED, READY, AGE
  deno task kubectl exec -it redis-example-0 -- redis-cli -h redis-example-master   # cluster DNS + kube-proxy
  deno task kubectl exec redis-example-1 -- redis-cli -h redis-example-master set greeting hello
  deno task kubectl delete pod -l redis=example,role=master   # a replica takes over
  deno task kubectl exec redis-example-1 -- redis-cli -h redis-example-master get greeting
  deno task kubectl logs -n redis-operator deploy/redis-operator -f
  deno task cluster exec${flag} -- sh -c 'kubectl port-forward pod/$(kubectl get redis example -o jsonpath={.status.master}) 16379:6379 & sleep 1; redis-cli -p 16379 ping; kill %1'
  deno task kubectl scale redis example --replicas 4
  deno task cluster fault${flag} kill default/redis-example-1   # SIGKILL, also: stop, cont, isolate, heal
  deno task kubectl get pods -o wide                           # one pod per node, one node per zone
  deno task cluster fault${flag} node-down ${layout.name}-node-2       # power loss; also node-partition
  deno task cluster fault${flag} node-up ${layout.name}-node-2         # back, as after a reboot
  deno task kubectl drain ${layout.name}-node-1 --ignore-daemonsets --delete-emptydir-data   # then: uncordon
  deno task kubectl get events --field-selector involvedObject.kind=Redis
  deno task cluster down${flag}`);
}

/**
 * kube-proxy's NAT must see traffic between pods on the bridge (br_netfilter), as on
 * any node with a bridge CNI; it is built into some kernels and a module in others.
 */
async function requireBridgeNetfilter(): Promise<void> {
  const sysctl = "/proc/sys/net/bridge/bridge-nf-call-iptables";
  const present = () => Deno.stat(sysctl).then(() => true, () => false);
  if (await present()) return;
  await run(["modprobe", "br_netfilter"], { allowFailure: true }).catch(() => {});
  if (!await present()) {
    throw new UserError(
      "The kernel's br_netfilter is not loaded, and kube-proxy needs it: run `modprobe br_netfilter` (Debian: apt-get install kmod)",
    );
  }
}

/** Runs inside the cluster namespace: starts what is not running and waits until it is healthy. */
async function startInside(layout: ClusterLayout): Promise<void> {
  const bin = Deno.env.get("BIN_DIR");
  if (!bin) throw new Error("BIN_DIR is not set: __start is internal to `cluster up`");
  const components = buildComponents(layout, recordedNodes(layout), bin, Deno.execPath());
  for (const component of components) {
    const name = component.name;
    if (runningPid(layout.pidDir, name) === undefined) {
      for (const port of portsOf(component)) assertPortFree(layout, name, port);
      startDaemon(component, layout.pidDir, layout.logDir);
      console.log(`started ${name}`);
    }
    await waitForComponent(layout, component, () => {
      if (runningPid(layout.pidDir, name) === undefined) {
        throw new UserError(
          `${name} exited during start-up; its log ends with:\n${logTail(layout.logDir, name)}`,
        );
      }
    });
  }
  await ensureClusterDns(layout, bin);
  console.log("ready: cluster DNS");
}

function portsOf(component: Component): number[] {
  if (component.kind === "etcd") return [2379, 2380];
  if (component.kind === "kube-apiserver") return [network.apiServerPort];
  return [];
}

function assertPortFree(layout: ClusterLayout, component: string, port: number): void {
  try {
    Deno.listen({ hostname: "0.0.0.0", port }).close();
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UserError(
        `Port ${port} needed by ${component} is in use inside namespace ${layout.netns} by a process this tooling does not know: run \`deno task cluster down\` and then \`up\` again`,
      );
    }
    throw error;
  }
}

async function down(layout: ClusterLayout): Promise<void> {
  requireRoot();
  const namespaces = (await listNetns()).filter((n) => belongsToCluster(layout, n));
  const inodes = new Set(namespaces.map(netnsInode).filter((i): i is number => i !== undefined));
  // Daemons by pid file, and anything else living in one of our namespaces
  // (pods, leftovers of a crashed agent): nothing may survive `down`.
  const pids = new Set(pidsInNetns(inodes));
  for (const pid of daemonPids(layout)) pids.add(pid);
  await terminate([...pids]);
  // Nodes first: deleting a node namespace removes its link's end in the cluster's.
  for (const ns of [...namespaces].reverse()) await deleteNetns(ns);
  // The pods' memory and CPU limits (node_agent/cgroups.ts), named like their namespaces.
  await removeCgroups(`${layout.netns}.`);
  await Deno.remove(layout.stateDir, { recursive: true }).catch(() => {});
  console.log(
    `Cluster ${layout.name} is down: stopped ${pids.size} processes, removed ${namespaces.length} network namespaces.`,
  );
}

/** Pids of every daemon recorded in the pid folder that is still alive. */
function daemonPids(layout: ClusterLayout): number[] {
  const pids: number[] = [];
  try {
    for (const entry of Deno.readDirSync(layout.pidDir)) {
      const pid = readPid(`${layout.pidDir}/${entry.name}`);
      if (pid !== undefined && isAlive(pid)) pids.push(pid);
    }
  } catch { /* no pid folder */ }
  return pids;
}

async function terminate(pids: number[]): Promise<void> {
  const signal = (pid: number, sig: Deno.Signal) => {
    try {
      Deno.kill(pid, sig);
    } catch { /* already gone */ }
  };
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + 5000;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(isAlive)) signal(pid, "SIGKILL");
  while (pids.some(isAlive)) await new Promise((r) => setTimeout(r, 50));
}

async function status(layout: ClusterLayout): Promise<number> {
  if (!await netnsExists(layout.netns)) {
    console.log(`Cluster ${layout.name} is down.`);
    return 1;
  }
  let healthy = true;
  const nodes = recordedNodes(layout);
  for (const component of buildComponents(layout, nodes, "", "")) {
    const pid = runningPid(layout.pidDir, component.name);
    healthy &&= pid !== undefined;
    console.log(
      `${component.name.padEnd(24)} ${pid === undefined ? "not running" : `running (pid ${pid})`}`,
    );
  }
  for (const node of nodes) {
    if (await isNodeCut(layout, node)) console.log(`${node.name.padEnd(24)} cut off (node fault)`);
  }
  if (!healthy) {
    console.log(
      `\nCluster ${layout.name} is half-started: run \`deno task cluster up\` to start what is missing, or \`down\` to clean up.`,
    );
    return 1;
  }
  console.log();
  return await execInside(layout, [
    `${await binDir(false)}/kubectl`,
    "get",
    "nodes,pods",
    "-A",
    "-o",
    "wide",
  ]);
}

/** Runs a command in the cluster's network namespace with KUBECONFIG and kubectl on PATH. */
async function execInside(layout: ClusterLayout, command: string[]): Promise<number> {
  requireRoot();
  if (command.length === 0) throw new UserError("Nothing to run: give a command after `exec --`");
  if (!await netnsExists(layout.netns)) {
    throw new UserError(`Cluster ${layout.name} is not up: run \`deno task cluster up\` first`);
  }
  const bin = await binDir(false);
  // Like a pod, the command resolves names through the cluster DNS.
  const resolvConf = `${layout.stateDir}/resolv.conf`;
  await Deno.writeTextFile(
    resolvConf,
    podResolvConf({ metadata: { namespace: "default" } }, {
      nameserver: network.dnsClusterIP,
      domain: network.clusterDomain,
    }),
  );
  const status = await new Deno.Command("nsenter", {
    args: inNetnsWithResolvConf(layout.netns, resolvConf, command),
    env: {
      KUBECONFIG: layout.kubeconfig,
      PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      ROP_CLUSTER: layout.name,
    },
  }).spawn().status;
  return status.code;
}

async function fault(
  layout: ClusterLayout,
  action?: string,
  target?: string,
  peers?: string,
): Promise<void> {
  requireRoot();
  if (action?.startsWith("node-")) return await nodeFault(layout, action, target);
  if (action?.startsWith("zone-")) return await zoneFault(layout, action, target);
  const [namespace, pod] = target?.split("/") ?? [];
  if (!action || !namespace || !pod) {
    throw new UserError(
      "Usage: fault <kill|stop|cont|isolate|heal> <namespace>/<pod>, fault cut <namespace>/<pod> <ip>[,<ip>...], or fault <node-down|node-partition|node-up> <node>",
    );
  }
  const found = await findPod(layout, namespace, pod);
  if (!found) throw new UserError(`No pod ${namespace}/${pod} runs on cluster ${layout.name}`);
  const { record, node } = found;
  const signals: Record<string, Deno.Signal> = {
    kill: "SIGKILL",
    stop: "SIGSTOP",
    cont: "SIGCONT",
  };
  const signal = signals[action];
  if (signal) {
    const pids = Object.values(record.containers).filter(isAlive);
    for (const pid of pids) Deno.kill(pid, signal);
    console.log(`${action}: sent ${signal} to ${pids.length} process(es) of ${target}`);
  } else if (action === "cut") {
    if (!peers) throw new UserError("Usage: fault cut <namespace>/<pod> <ip>[,<ip>...]");
    await cutPodFrom(record.netns, peers.split(","));
    console.log(`cut: ${target} (${record.ip}) is cut off (at ${Date.now()}) from ${peers}`);
  } else if (action === "isolate" || action === "heal") {
    if (action === "heal") await restorePodCut(record.netns);
    await ipIn(node.netns, "link", "set", record.hostVeth, action === "isolate" ? "down" : "up");
    console.log(
      `${action}: ${target} (${record.ip}) is ${
        action === "isolate" ? "cut off" : "reachable again"
      }`,
    );
  } else {
    throw new UserError(`Unknown fault: ${action}: use kill, stop, cont, isolate, cut or heal`);
  }
}

/** The newest record of a pod on any node, and the node it runs on. */
async function findPod(
  layout: ClusterLayout,
  namespace: string,
  name: string,
): Promise<{ record: PodRecord; node: NodeLayout } | undefined> {
  const nodes = recordedNodes(layout);
  const found = await newestPodRecord(nodes.map((n) => n.podsDir), namespace, name);
  const node = nodes.find((n) => n.podsDir === found?.podsDir);
  return found && node ? { record: found.record, node } : undefined;
}

/** A node fault applied to every node of a zone. */
async function zoneFault(layout: ClusterLayout, action: string, zone?: string): Promise<void> {
  const nodes = recordedNodes(layout).filter((n) => n.zone === zone);
  if (nodes.length === 0) {
    const zones = [...new Set(recordedNodes(layout).map((n) => n.zone))];
    throw new UserError(`Usage: fault ${action} ZONE, ZONE one of ${zones.join(", ")}`);
  }
  await faultNodes(
    layout,
    action,
    action.slice("zone-".length),
    nodes,
    `${zone} (${nodes.map((n) => n.name).join(", ")})`,
  );
}

/**
 * down: every node's link drops everything, then every process of the nodes
 * is killed; as the links are cut first (all of them before any kill), not
 * even their resets reach a peer. partition: the links are cut and the nodes
 * run on. up: the links carry traffic again, and what a power loss killed
 * starts again as after a reboot (the agent starts its pods afresh).
 */
async function faultNodes(
  layout: ClusterLayout,
  action: string,
  kind: string,
  nodes: readonly NodeLayout[],
  subject: string,
): Promise<void> {
  if (kind === "up") {
    for (const node of nodes) await restoreNode(layout, node);
    await up(layout);
    console.log(`${action}: ${subject} is back`);
    return;
  }
  if (kind !== "down" && kind !== "partition") {
    const prefix = action.slice(0, action.indexOf("-") + 1);
    throw new UserError(
      `Unknown fault: ${action}: use ${prefix}down, ${prefix}partition or ${prefix}up`,
    );
  }
  for (const node of nodes) await cutNode(layout, node);
  // When the cut is in place, for tests that measure from it.
  const cutAt = Date.now();
  if (kind === "partition") {
    console.log(`${action}: ${subject} is cut off (at ${cutAt}); it runs on`);
    return;
  }
  let killed = 0;
  for (const node of nodes) killed += await killNode(node, layout);
  console.log(`${action}: ${subject} is cut off (at ${cutAt}) and its ${killed} processes killed`);
}

/**
 * Kills every process of a node: its agent and kube-proxy first (the agent
 * would restart a container killed before it), then whatever runs in the
 * node's and its pods' namespaces, until nothing does. Returns how many.
 */
async function killNode(node: NodeLayout, layout: ClusterLayout): Promise<number> {
  const kill = (pid: number) => {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* already gone */ }
  };
  const daemons = [node.agentDaemon, node.proxyDaemon].map((d) => runningPid(layout.pidDir, d))
    .filter((pid): pid is number => pid !== undefined);
  daemons.forEach(kill);
  const killed = new Set(daemons);
  for (let round = 0; round < 50; round++) {
    const inodes = new Set(
      (await listNetns()).filter((n) => n === node.netns || n.startsWith(`${node.netns}.`))
        .map(netnsInode).filter((i): i is number => i !== undefined),
    );
    const left = pidsInNetns(inodes).filter(isAlive);
    if (left.length === 0) break;
    for (const pid of left) {
      kill(pid);
      killed.add(pid);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return killed.size;
}

/** A fault of one node, named or numbered: node-down, node-partition, node-up (see faultNodes). */
async function nodeFault(layout: ClusterLayout, action: string, target?: string): Promise<void> {
  const nodes = recordedNodes(layout);
  const node = nodes.find((n) => n.name === target || String(n.index) === target);
  if (!node) {
    throw new UserError(
      `Usage: fault ${action} NODE, NODE one of ${nodes.map((n) => n.name).join(", ")}`,
    );
  }
  await faultNodes(layout, action, action.slice("node-".length), [node], node.name);
}

if (import.meta.main) {
  try {
    Deno.exit(await main([...Deno.args]));
  } catch (error) {
    if (error instanceof UserError) {
      console.error(`error: ${error.message}`);
      Deno.exit(1);
    }
    throw error;
  }
}
