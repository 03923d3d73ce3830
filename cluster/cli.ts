/**
 * `deno task cluster <command>`: a real Kubernetes control plane and a node
 * agent that runs pods as processes, all inside network namespaces of ours.
 *
 *   up | demo | down | status | kubectl ARGS | exec -- CMD | fault ACTION NS/POD
 *
 * @module
 */
import { buildComponents, type ComponentName, componentNames } from "./lib/control_plane.ts";
import { ensureClusterDns } from "./lib/cluster_dns.ts";
import { logTail, runningPid, startDaemon } from "./lib/daemon.ts";
import { type ClusterLayout, clusterLayout, network } from "./lib/layout.ts";
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
import { ensurePki, writeKubeconfig } from "./lib/pki.ts";
import { run } from "./lib/run.ts";
import { podResolvConf } from "./node_agent/pod_dns.ts";
import { readPodRecord } from "./node_agent/pod_record.ts";
import { waitForComponent } from "./lib/readiness.ts";

const usage = `Usage: deno task cluster <command> [--name NAME]

  up                     build if needed, start the cluster, wait until the Node is Ready
  demo                   up, deploy the operator and the example Redis, show what to try
  down                   stop every process, remove every namespace, interface and state
  status                 show components, nodes and pods
  kubectl ARGS...        the built kubectl against this cluster (also: deno task kubectl)
  exec -- CMD...         run CMD where the API server and pod IPs are reachable,
                         with KUBECONFIG set and kubectl on PATH
  fault ACTION NS/POD    ACTION: kill (SIGKILL), stop (SIGSTOP), cont (SIGCONT),
                         isolate (cut the pod's network), heal (restore it)
`;

/** Thrown for problems the user can fix; printed without a stack trace. */
class UserError extends Error {}

async function main(argv: string[]): Promise<number> {
  const nameIndex = argv.findIndex((a) => a === "--name" || a.startsWith("--name="));
  let name = Deno.env.get("ROP_CLUSTER") ?? "local";
  if (nameIndex >= 0) {
    const arg = argv[nameIndex]!;
    name = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[nameIndex + 1] ?? "";
    argv.splice(nameIndex, arg.includes("=") ? 1 : 2);
  }
  const layout = clusterLayout(name);
  const [command, ...rest] = argv;
  switch (command) {
    case "up":
      await up(layout);
      return 0;
    case "demo":
      await up(layout);
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
      await fault(layout, rest[0], rest[1]);
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

async function up(layout: ClusterLayout): Promise<void> {
  requireRoot();
  await requireTools();
  const bin = await binDir(true);
  // Pods run without a network route out, so every module the operator and the
  // node agent import must be in the Deno cache before they start.
  await run([
    Deno.execPath(),
    "cache",
    `${layout.repoDir}/main.ts`,
    `${layout.repoDir}/cluster/node_agent/main.ts`,
  ]);
  await createClusterNetwork(layout);
  const pki = await ensurePki(layout.pkiDir);
  await writeKubeconfig(layout.kubeconfig, layout.apiServerUrl, pki, layout.name);
  const started = Date.now();
  const code = await new Deno.Command("nsenter", {
    args: [
      `--net=/run/netns/${layout.netns}`,
      "--",
      Deno.execPath(),
      "run",
      "-A",
      import.meta.filename!,
      "__start",
      `--name=${layout.name}`,
    ],
    env: { BIN_DIR: bin },
    stdin: "null",
  }).spawn().status;
  if (!code.success) throw new UserError(`Cluster ${layout.name} did not start (see above)`);
  console.log(`Cluster ${layout.name} is up (${((Date.now() - started) / 1000).toFixed(1)} s).`);
  console.log(`  deno task kubectl get nodes        (or: deno task cluster exec -- <command>)`);
  console.log(`  KUBECONFIG=${layout.kubeconfig} inside network namespace ${layout.netns}`);
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

async function createClusterNetwork(layout: ClusterLayout): Promise<void> {
  if (await netnsExists(layout.netns)) return;
  await requireBridgeNetfilter();
  await run(["ip", "netns", "add", layout.netns]);
  try {
    await ipIn(layout.netns, "link", "set", "lo", "up");
    await ipIn(layout.netns, "link", "add", network.bridge, "type", "bridge");
    await ipIn(
      layout.netns,
      "addr",
      "add",
      `${network.gateway}/${network.prefixLength}`,
      "dev",
      network.bridge,
    );
    await ipIn(layout.netns, "link", "set", network.bridge, "up");
    // ClusterIPs need a route for the node's own connections to reach kube-proxy's NAT
    // (a real node has its default route); nothing is translated beyond the bridge.
    await ipIn(layout.netns, "route", "add", network.serviceRange, "dev", network.bridge);
    // As on a node: pod traffic to a ClusterIP is routed (forwarding on), and bridged
    // pod-to-pod replies pass netfilter, so kube-proxy's NAT is undone on the way back.
    await run([
      "nsenter",
      `--net=/run/netns/${layout.netns}`,
      "sysctl",
      "-qw",
      "net.ipv4.ip_forward=1",
      "net.bridge.bridge-nf-call-iptables=1",
    ]);
  } catch (error) {
    await deleteNetns(layout.netns);
    throw error;
  }
}

/** Runs inside the cluster namespace: starts what is not running and waits until it is healthy. */
async function startInside(layout: ClusterLayout): Promise<void> {
  const bin = Deno.env.get("BIN_DIR");
  if (!bin) throw new Error("BIN_DIR is not set: __start is internal to `cluster up`");
  const components = buildComponents(layout, bin, Deno.execPath());
  for (const component of components) {
    const name = component.name as ComponentName;
    if (runningPid(layout.pidDir, name) === undefined) {
      for (const port of portsOf(name)) assertPortFree(layout, name, port);
      startDaemon(component, layout.pidDir, layout.logDir);
      console.log(`started ${name}`);
    }
    await waitForComponent(layout, name, () => {
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

function portsOf(component: string): number[] {
  if (component === "etcd") return [2379, 2380];
  if (component === "kube-apiserver") return [network.apiServerPort];
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
  const namespaces = (await listNetns()).filter((n) =>
    n === layout.netns || n.startsWith(layout.podNetnsPrefix)
  );
  const inodes = new Set(namespaces.map(netnsInode).filter((i): i is number => i !== undefined));
  // Daemons by pid file, and anything else living in one of our namespaces
  // (pods, leftovers of a crashed agent): nothing may survive `down`.
  const pids = new Set(pidsInNetns(inodes));
  for (const name of componentNames) {
    const pid = runningPid(layout.pidDir, name);
    if (pid !== undefined) pids.add(pid);
  }
  await terminate([...pids]);
  for (const ns of namespaces) await deleteNetns(ns);
  await Deno.remove(layout.stateDir, { recursive: true }).catch(() => {});
  console.log(
    `Cluster ${layout.name} is down: stopped ${pids.size} processes, removed ${namespaces.length} network namespaces.`,
  );
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
  for (const name of componentNames) {
    const pid = runningPid(layout.pidDir, name);
    healthy &&= pid !== undefined;
    console.log(`${name.padEnd(24)} ${pid === undefined ? "not running" : `running (pid ${pid})`}`);
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

async function fault(layout: ClusterLayout, action?: string, target?: string): Promise<void> {
  requireRoot();
  const [namespace, pod] = target?.split("/") ?? [];
  if (!action || !namespace || !pod) {
    throw new UserError("Usage: fault <kill|stop|cont|isolate|heal> <namespace>/<pod>");
  }
  const record = await readPodRecord(layout.podsDir, namespace, pod);
  if (!record) throw new UserError(`No pod ${namespace}/${pod} runs on cluster ${layout.name}`);
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
  } else if (action === "isolate" || action === "heal") {
    await ipIn(layout.netns, "link", "set", record.hostVeth, action === "isolate" ? "down" : "up");
    console.log(
      `${action}: ${target} (${record.ip}) is ${
        action === "isolate" ? "cut off" : "reachable again"
      }`,
    );
  } else {
    throw new UserError(`Unknown fault: ${action}: use kill, stop, cont, isolate or heal`);
  }
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
