/**
 * The node agent: our kubelet. Registers one Node, keeps it Ready and runs
 * every pod bound to it as real processes. Started by `deno task cluster up`
 * inside its node's network namespace, one per node:
 * `main.ts --cluster=NAME --node=INDEX --zones=Z`.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { delay } from "../../src/async/delay.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { loadClusterConfig } from "../../src/kube/config.ts";
import { listWatch } from "../../src/kube/watch.ts";
import { clusterLayout, network, nodeLayout } from "../lib/layout.ts";
import { pkiFiles } from "../lib/pki.ts";
import { serveKubeletApi } from "./kubelet_server.ts";
import { deleteNetns, listNetns, netnsInode, pidsInNetns } from "../lib/netns.ts";
import { keepNodeAlive, kubeletPort, registerNode } from "./node_heartbeat.ts";
import { type AgentContext, PodWorker } from "./pod_worker.ts";
import { ensureStorageClass, provisionClaims, reclaimVolumes } from "./provisioner.ts";
import { AddressAllocator, hostVethPattern } from "./sandbox.ts";
import { run } from "../lib/run.ts";
import { findRedisBuilds } from "./redis_builds.ts";
import { removeCgroups } from "./cgroups.ts";
import { removePodObject } from "./pod_removal.ts";

function log(message: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), message, ...fields }));
}

/**
 * Removes pod sandboxes a previous agent left behind (it crashed, or its node
 * lost power); their pods are started afresh, in new sandboxes.
 */
async function removeLeftovers(podNetnsPrefix: string, podsDir: string): Promise<void> {
  const leftovers = (await listNetns()).filter((n) => n.startsWith(podNetnsPrefix));
  const inodes = new Set(leftovers.map(netnsInode).filter((i): i is number => i !== undefined));
  for (const pid of pidsInNetns(inodes)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
  // The host ends first: a deleted namespace is torn down by the kernel later, with
  // its end of the link, and a pod started again at once needs the same link name.
  for (const link of await hostVeths()) {
    await run(["ip", "link", "delete", link], { allowFailure: true });
  }
  for (const netns of leftovers) await deleteNetns(netns);
  // Their processes are gone: the limits' cgroups can go too (named like the namespaces).
  await removeCgroups(podNetnsPrefix);
  await Deno.remove(podsDir, { recursive: true }).catch(() => {});
  if (leftovers.length) log("removed leftover pod sandboxes", { count: leftovers.length });
}

/** The host ends of pod links in this node's namespace (sandbox.ts names them). */
async function hostVeths(): Promise<string[]> {
  const links = await run(["ip", "-o", "link", "show", "type", "veth"]);
  return links.split("\n").map((line) => line.split(":")[1]?.trim().split("@")[0] ?? "")
    .filter((name) => hostVethPattern.test(name));
}

async function kubeletVersion(repoDir: string): Promise<string> {
  const goMod = await Deno.readTextFile(`${repoDir}/cluster/build/kubernetes/go.mod`);
  return goMod.match(/k8s\.io\/kubernetes (v[\d.]+)/)?.[1] ?? "v0.0.0";
}

async function main(): Promise<void> {
  const arg = (name: string) =>
    Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const layout = clusterLayout(arg("cluster"));
  const node = nodeLayout(layout, Number(arg("node") ?? 1), Number(arg("zones") ?? 1));
  const client = new KubeClient(await loadClusterConfig());
  const stop = new AbortController();
  Deno.addSignalListener("SIGTERM", () => stop.abort());
  Deno.addSignalListener("SIGINT", () => stop.abort());

  await removeLeftovers(node.podNetnsPrefix, node.podsDir);
  await Deno.mkdir(node.podsDir, { recursive: true });
  const version = await kubeletVersion(layout.repoDir);
  // A kubelet started while the API server is down waits for it; nothing restarts an agent.
  await untilDone("node registration", () => registerNode(client, node, version), stop.signal);
  await untilDone("storage class", () => ensureStorageClass(client), stop.signal);
  if (stop.signal.aborted) {
    log("node agent stopping");
    Deno.exit(0);
  }
  log("node registered", { node: node.name, zone: node.zone, version });

  const onError = (what: string) => (error: unknown) => log(what, { error: String(error) });
  keepNodeAlive(client, node, version, stop.signal, onError("node heartbeat failed"));
  provisionClaims(client, layout.volumesDir, stop.signal, log);
  reclaimVolumes(client, stop.signal, log);

  const denoDir = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;
  const ctx: AgentContext = {
    client,
    layout,
    node,
    addresses: new AddressAllocator(
      node.podRangeStart,
      node.podPrefixLength,
      `${node.stateDir}/next-pod-address`,
    ),
    denoPath: Deno.execPath(),
    denoDir,
    corednsPath: corednsBinary(),
    // Looked up at each start: builds made after the agent started count too.
    redisBuilds: () => findRedisBuilds(Deno.env.get("REDIS_BUILDS_DIR")),
    log,
  };
  const workers = new Map<string, PodWorker>();

  const forget = (uid: string) => {
    const worker = workers.get(uid);
    if (!worker) return;
    workers.delete(uid);
    worker.terminate(0, false);
  };
  // Several workers may share a name for a moment (a StatefulSet pod deleted and
  // created again): the newest one, the last added, is the pod the API server means.
  const findPod = (namespace: string, name: string) =>
    [...workers.values()].reverse().find((w) =>
      w.key.namespace === namespace && w.key.name === name
    );
  const pki = pkiFiles(layout.pkiDir);
  serveKubeletApi(findPod, {
    hostname: node.ip,
    apiServerAddress: network.controlPlaneIP,
    port: kubeletPort,
    certFile: pki.kubeletCert(node),
    keyFile: pki.kubeletKey(node),
    signal: stop.signal,
    log,
  });

  /** Pods that never ran here whose removal is under way. */
  const removing = new Set<string>();
  const handle = (pod: Pod) => {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let worker = workers.get(uid);
    if (pod.metadata?.deletionTimestamp) {
      if (worker) {
        worker.update(pod);
        worker.terminate(pod.metadata.deletionGracePeriodSeconds ?? 30, true);
      } else {
        // A pod deleted before it ever ran here has nothing to stop: remove it at once,
        // once (every event of it until then would start another removal).
        if (removing.has(uid)) return;
        removing.add(uid);
        removePodObject(
          client,
          {
            namespace: pod.metadata?.namespace ?? "default",
            name: pod.metadata?.name ?? "",
            uid,
          },
          log,
          stop.signal,
        ).finally(() => removing.delete(uid));
      }
      return;
    }
    if (!worker) {
      if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return;
      worker = new PodWorker(ctx, pod);
      workers.set(uid, worker);
      log("starting pod", { namespace: pod.metadata?.namespace, pod: pod.metadata?.name });
      worker.start();
    } else {
      worker.update(pod);
    }
  };

  for await (
    const event of listWatch<Pod>(client, "/api/v1/pods", {
      fieldSelector: `spec.nodeName=${node.name}`,
      signal: stop.signal,
      onError: onError("pod watch failed"),
    })
  ) {
    if (event.type === "LIST") {
      const present = new Set(event.items.map((p) => p.metadata?.uid));
      for (const uid of [...workers.keys()]) if (!present.has(uid)) forget(uid);
      for (const pod of event.items) handle(pod);
    } else if (event.type === "DELETED") {
      forget(event.object.metadata?.uid ?? "");
    } else {
      handle(event.object);
    }
  }
  log("node agent stopping");
  Deno.exit(0);
}

/**
 * Runs `step` until it succeeds or `signal` aborts, waiting 1 s after the first
 * failure, doubling up to 10 s, and logging each failure.
 */
async function untilDone(what: string, step: () => Promise<void>, signal: AbortSignal) {
  for (let wait = 1000; !signal.aborted; wait = Math.min(wait * 2, 10_000)) {
    try {
      return await step();
    } catch (error) {
      log(`${what} failed, retrying`, { error: String(error), retryInMs: wait });
    }
    await delay(wait, signal).catch(() => {});
  }
}

if (import.meta.main) await main();

/** The CoreDNS build `cluster up` passes in BIN_DIR, past its symlink; none without one. */
function corednsBinary(): string | undefined {
  const bin = Deno.env.get("BIN_DIR");
  if (!bin) return undefined;
  try {
    return Deno.realPathSync(`${bin}/coredns`);
  } catch {
    return undefined;
  }
}
