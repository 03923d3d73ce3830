/**
 * Runs one pod from creation to deletion: sandbox, volumes, init containers in
 * order, then the containers with restarts and probes; reports status as the
 * kubelet does; on deletion stops the processes within the grace period and
 * removes the pod.
 *
 * @module
 */
import type {
  Container,
  ContainerState,
  LifecycleHandler,
  Pod,
  PodCondition,
} from "kubernetes-types/core/v1.d.ts";
import { delay } from "../../src/async/delay.ts";
import { isNotFound, type KubeClient } from "../../src/kube/client.ts";
import { recordEvent } from "../../src/kube/events.ts";
import { type ClusterLayout, network, type NodeLayout } from "../lib/layout.ts";
import {
  execInContainer,
  launchContainer,
  type Mount,
  type RunningContainer,
} from "./container_process.ts";
import { MissingReferenceError, resolveEnv } from "./env.ts";
import {
  buildEntrypointCommand,
  buildOperatorCommand,
  buildRedisCommand,
  classifyImage,
  type ImageKind,
  redisConfigPath,
  withImageDefaults,
} from "./images.ts";
import { terminationMessage } from "./log_slice.ts";
import { podHostsFile, podResolvConf } from "./pod_dns.ts";
import { podDirName, writePodRecord } from "./pod_record.ts";
import {
  buildPodStatus,
  conditionsDrifted,
  type ContainerSnapshot,
  statusPatch,
  statusPatchSettled,
} from "./pod_status.ts";
import { probeContainer } from "./probe_loop.ts";
import { signalNumber } from "./signals.ts";
import {
  afterRestart,
  type BackoffEntry,
  backoffRemainingMs,
  relistDelayMs,
  requeueDelayMs,
} from "./restart_backoff.ts";
import {
  type AddressAllocator,
  createSandbox,
  deleteSandbox,
  hostVethName,
  type Sandbox,
} from "./sandbox.ts";
import { materializeVolumes, refreshVolumes, type VolumePaths } from "./volumes.ts";
import { pathExists } from "../../src/files/exists.ts";
import { buildForImage, type RedisBuild } from "./redis_builds.ts";
import { ContainerCgroup, containerLimits } from "./cgroups.ts";
import { removePodObject } from "./pod_removal.ts";

/** The user the official redis and valkey images run the server as. */
const redisImageUid = 999;
/** How often the ConfigMap and Secret volumes of a running pod are written again. */
const volumeRefreshMs = 10_000;
/** Debian's build of oliver006/redis_exporter (package prometheus-redis-exporter). */
const redisExporterPath = "/usr/bin/prometheus-redis-exporter";
/** The user oliver006/redis_exporter's image runs as (its Dockerfile's USER). */
const redisExporterImageUid = 59000;
/** How long a postStart hook may run (a kubelet waits for it without a limit; a hung one is a bug here). */
const postStartLimitMs = 120_000;

/** How long removing a pod waits for its last status patch (one request's timeout and a bit). */
const statusFlushWaitMs = 12_000;

/** What every pod worker shares. */
export interface AgentContext {
  readonly client: KubeClient;
  readonly layout: ClusterLayout;
  /** The node this agent is. */
  readonly node: NodeLayout;
  readonly addresses: AddressAllocator;
  readonly denoPath: string;
  readonly denoDir: string;
  /** The CoreDNS binary (`coredns` images), resolved past the cache's symlink. */
  readonly corednsPath: string | undefined;
  /** Redis and Valkey builds other than the host's, as found now (redis_builds.ts). */
  readonly redisBuilds: () => readonly RedisBuild[];
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

/** Mutable state of one container of the pod. */
interface ContainerRuntime {
  spec: Container;
  readonly init: boolean;
  restartCount: number;
  state: ContainerState;
  lastState?: ContainerState;
  ready: boolean;
  started: boolean;
  child?: Deno.ChildProcess | undefined;
  containerID?: string;
  /** The environment of the current process, for exec hooks. */
  env?: Record<string, string>;
  /** `uid:gid` of the running process. */
  user?: string;
  /** The kubelet's restart back-off entry; none until the first restart. */
  backoff?: BackoffEntry | undefined;
  /** The log of the current (or last) instance, and of the one before it. */
  logFile?: string;
  previousLogFile?: string | undefined;
  /** Counts starts, so a `logs -f` knows when its instance has been replaced. */
  logInstance?: number;
}

/** The agent's handle on one pod. */
export class PodWorker {
  readonly uid: string;
  #pod: Pod;
  readonly #ctx: AgentContext;
  readonly #dir: string;
  readonly #logPrefix: string;
  #sandbox?: Sandbox;
  #runtimes: ContainerRuntime[];
  #initialized = false;
  #volumeWrites: Promise<void> = Promise.resolve();
  #terminating = false;
  /** Set once the pod's sandbox and directory are being removed. */
  #tornDown = false;
  readonly #stop = new AbortController();
  readonly #startTime = new Date().toISOString();
  #conditions: PodCondition[] | undefined;
  #statusDirty = false;
  #statusFlush: Promise<void> | undefined;
  #running?: Promise<void>;

  constructor(ctx: AgentContext, pod: Pod) {
    this.#ctx = ctx;
    this.#pod = pod;
    this.uid = pod.metadata!.uid!;
    const dirName = podDirName(this.#namespace, this.#name, this.uid);
    this.#dir = `${ctx.node.podsDir}/${dirName}`;
    this.#logPrefix = `${ctx.layout.logDir}/pods/${dirName}`;
    this.#conditions = pod.status?.conditions;
    // Restart counts continue from what the pod reported before an agent restart.
    const previous = new Map(
      [...pod.status?.initContainerStatuses ?? [], ...pod.status?.containerStatuses ?? []]
        .map((s) => [s.name, s.restartCount]),
    );
    const runtime = (spec: Container, init: boolean): ContainerRuntime => ({
      spec,
      init,
      restartCount: previous.get(spec.name) ?? 0,
      state: { waiting: { reason: "ContainerCreating" } },
      ready: false,
      started: false,
    });
    this.#runtimes = [
      ...(pod.spec?.initContainers ?? []).map((c) => runtime(c, true)),
      ...(pod.spec?.containers ?? []).map((c) => runtime(c, false)),
    ];
  }

  get #namespace(): string {
    return this.#pod.metadata?.namespace ?? "default";
  }
  get #name(): string {
    return this.#pod.metadata?.name ?? "";
  }

  /** Starts running the pod in the background. */
  start(): void {
    this.#running = this.#run().catch((error) => {
      this.#ctx.log("pod worker failed", {
        namespace: this.#namespace,
        pod: this.#name,
        error: String(error),
      });
    });
  }

  /** Takes the newest version of the pod object. */
  update(pod: Pod): void {
    this.#pod = pod;
    if (conditionsDrifted(pod.status?.conditions, this.#conditions)) this.#markDirty();
    for (const runtime of this.#runtimes) {
      const spec = [...pod.spec?.initContainers ?? [], ...pod.spec?.containers ?? []]
        .find((c) => c.name === runtime.spec.name);
      if (!spec) continue;
      const imageChanged = spec.image !== runtime.spec.image;
      runtime.spec = spec;
      // The image is the one mutable field of a container: restart it to take the new one.
      // The kubelet's back-off key includes the image, so a new image starts without one.
      if (imageChanged) runtime.backoff = undefined;
      if (imageChanged && runtime.child && !runtime.init) this.#signal(runtime, "SIGTERM");
    }
  }

  /** Stops every process within `graceSeconds`, removes the sandbox and deletes the pod object. */
  async terminate(graceSeconds: number, deleteObject: boolean): Promise<void> {
    if (this.#terminating) return;
    this.#terminating = true;
    this.#stop.abort(new Error("pod is terminating"));
    const running = this.#runtimes.filter((r) => r.child);
    if (running.length) {
      this.#event(
        "Normal",
        "Killing",
        `Stopping containers ${running.map((r) => r.spec.name).join(", ")}`,
      );
    }
    // preStop hooks run first, within the grace period; SIGTERM follows them.
    const deadline = Date.now() + graceSeconds * 1000;
    await Promise.all(running.map((r) => this.#preStop(r, deadline)));
    for (const runtime of running) this.#signal(runtime, "SIGTERM");
    const exited = Promise.all(running.map((r) => r.child!.status));
    // Like the kubelet: a hook that used up the grace period gets 2 s more for SIGTERM.
    const timer = delay(Math.max(deadline - Date.now(), 2000)).then(() => {
      for (const runtime of running) this.#signal(runtime, "SIGKILL");
    });
    await Promise.race([exited, timer]);
    await exited;
    // Nothing may keep the pod: whatever still runs after the grace period is killed, and
    // a worker still waiting on something else (the API server) is not waited for long.
    let stopped = false;
    const workerDone = (this.#running ?? Promise.resolve()).finally(() => stopped = true);
    for (let round = 0; !stopped && round < 5; round++) {
      await Promise.race([workerDone, delay(2000)]);
      if (!stopped) { for (const runtime of this.#runtimes) this.#signal(runtime, "SIGKILL"); }
    }
    if (!stopped) {
      this.#ctx.log("pod worker still busy after its grace period: removing the pod anyway", {
        namespace: this.#namespace,
        pod: this.#name,
      });
    }
    await this.#teardown();
    if (deleteObject) await this.#deletePodObject();
  }

  /** Runs the container's preStop hook until it ends or `deadline`. */
  async #preStop(runtime: ContainerRuntime, deadline: number): Promise<void> {
    const hook = runtime.spec.lifecycle?.preStop;
    if (!hook || !runtime.child) return;
    const failure = await this.#runHook(runtime, hook, deadline);
    if (failure) {
      this.#event(
        "Warning",
        "FailedPreStopHook",
        `PreStop hook of ${runtime.spec.name} failed: ${failure}`,
      );
      this.#ctx.log("preStop hook failed", {
        pod: this.#name,
        container: runtime.spec.name,
        error: failure,
      });
    }
  }

  /**
   * Runs a lifecycle hook (exec as the container's user, HTTP GET or sleep)
   * until it ends or `deadline`; returns why it failed, if it did.
   */
  async #runHook(
    runtime: ContainerRuntime,
    hook: LifecycleHandler,
    deadline: number,
  ): Promise<string | undefined> {
    const child = runtime.child;
    if (!child) return "the container is not running";
    const remaining = Math.max(deadline - Date.now(), 0);
    try {
      if (hook.exec?.command) {
        const result = await execInContainer(
          { pid: child.pid, env: runtime.env ?? {}, user: runtime.user ?? "0:0" },
          hook.exec.command,
          remaining,
        );
        if (result.code !== 0) {
          return result.output.trim() || `exited with ${result.code}`;
        }
      } else if (hook.httpGet) {
        const { port, host, path } = hook.httpGet;
        const response = await fetch(`http://${host ?? this.#sandbox?.ip}:${port}${path ?? "/"}`, {
          signal: AbortSignal.timeout(remaining),
        });
        await response.body?.cancel();
        // As a kubelet's HTTP handler: any status from 400 on is a failure.
        if (response.status >= 400) return `HTTP ${response.status}`;
      } else if (hook.sleep) {
        await delay(Math.min(hook.sleep.seconds * 1000, remaining));
      }
      return undefined;
    } catch (error) {
      return String(error);
    }
  }

  async #run(): Promise<void> {
    await Deno.mkdir(this.#dir, { recursive: true });
    await Deno.mkdir(`${this.#ctx.layout.logDir}/pods`, { recursive: true });
    const ip = this.#ctx.addresses.allocate();
    const hex = this.uid.replace(/-/g, "");
    try {
      this.#sandbox = await createSandbox(
        this.#ctx.node,
        `${this.#ctx.node.podNetnsPrefix}${hex.slice(0, 12)}`,
        hostVethName(this.uid),
        ip,
      );
    } catch (error) {
      this.#ctx.addresses.release(ip);
      throw error;
    }
    // terminate() stopped waiting for this worker and tore the pod down meanwhile.
    if (this.#tornDown) {
      await deleteSandbox(this.#sandbox);
      this.#ctx.addresses.release(ip);
      return;
    }
    await Deno.writeTextFile(
      `${this.#dir}/hosts`,
      podHostsFile(this.#pod, ip, network.clusterDomain),
    );
    await Deno.writeTextFile(
      `${this.#dir}/resolv.conf`,
      podResolvConf(this.#pod, { nameserver: network.dnsClusterIP, domain: network.clusterDomain }),
    );
    await this.#saveRecord();
    this.#markDirty();
    for (const runtime of this.#runtimes.filter((r) => r.init)) {
      const succeeded = await this.#superviseInit(runtime);
      if (!succeeded) return;
    }
    this.#initialized = true;
    this.#markDirty();
    const refreshing = this.#refreshVolumesWhileRunning();
    await Promise.all(this.#runtimes.filter((r) => !r.init).map((r) => this.#supervise(r)));
    await refreshing;
  }

  /**
   * Keeps ConfigMap and Secret volumes current while the pod runs, as a kubelet's
   * periodic sync does (its delay is up to a minute or so; 10 s keeps tests short).
   */
  async #refreshVolumesWhileRunning(): Promise<void> {
    const addresses = { podIP: this.#sandbox!.ip, hostIP: this.#ctx.node.ip };
    while (!this.#terminating) {
      await delay(volumeRefreshMs, this.#stop.signal).catch(() => {});
      if (this.#terminating) return;
      await this.#oneVolumeWriterAtATime(() =>
        refreshVolumes(this.#ctx.client, this.#pod, this.#dir, addresses)
      );
    }
  }

  /**
   * Runs `write` after every volume write before it: containers start at once
   * and the refresh loop runs beside them, and two writers of one folder would
   * remove each other's new version.
   */
  #oneVolumeWriterAtATime<T>(write: () => Promise<T>): Promise<T> {
    const run = this.#volumeWrites.then(write, write);
    this.#volumeWrites = run.then(() => {}, () => {});
    return run;
  }

  /** Runs an init container until it succeeds; false when the pod will not get further. */
  async #superviseInit(runtime: ContainerRuntime): Promise<boolean> {
    while (!this.#terminating) {
      const outcome = await this.#runOnce(runtime);
      if (this.#terminating) return false;
      if (outcome === "retry") continue;
      if (outcome.exitCode === 0) return true;
      if (this.#pod.spec?.restartPolicy === "Never") return false;
      await this.#waitToRestart(runtime, outcome.finishedAtMs);
    }
    return false;
  }

  /** Keeps a container running as its restart policy says. */
  async #supervise(runtime: ContainerRuntime): Promise<void> {
    while (!this.#terminating) {
      const outcome = await this.#runOnce(runtime);
      if (this.#terminating) return;
      if (outcome === "retry") continue;
      const policy = this.#pod.spec?.restartPolicy ?? "Always";
      if (policy === "Never" || (policy === "OnFailure" && outcome.exitCode === 0)) return;
      await this.#waitToRestart(runtime, outcome.finishedAtMs);
    }
  }

  /**
   * Waits as a kubelet does before restarting a container that exited at
   * `finishedAtMs` (see restart_backoff.ts): until its next relist when there is
   * no back-off, else in CrashLoopBackOff until the window has passed. Counts the restart.
   */
  async #waitToRestart(runtime: ContainerRuntime, finishedAtMs: number): Promise<void> {
    await delay(relistDelayMs(Date.now()), this.#stop.signal).catch(() => {});
    while (!this.#terminating) {
      const remainingMs = backoffRemainingMs(runtime.backoff, finishedAtMs, Date.now());
      if (remainingMs === 0) break;
      const windowS = runtime.backoff!.backoffMs / 1000;
      runtime.state = {
        waiting: {
          reason: "CrashLoopBackOff",
          message:
            `back-off ${windowS}s restarting failed container=${runtime.spec.name} pod=${this.#name}_${this.#namespace}(${this.uid})`,
        },
      };
      this.#markDirty();
      this.#event(
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${runtime.spec.name} in pod ${this.#name}_${this.#namespace}(${this.uid})`,
      );
      await delay(requeueDelayMs(remainingMs, Math.random()), this.#stop.signal).catch(() => {});
    }
    runtime.backoff = afterRestart(runtime.backoff, finishedAtMs, Date.now());
    runtime.restartCount++;
  }

  /**
   * Starts the container once and waits for it to exit. "retry" means it could
   * not start yet (missing ConfigMap, unknown image...); the state says why.
   */
  async #runOnce(
    runtime: ContainerRuntime,
  ): Promise<"retry" | { exitCode: number; finishedAtMs: number }> {
    const container = runtime.spec;
    const kind = classifyImage(container.image ?? "");
    if (!kind) {
      const firstTime = runtime.state.waiting?.reason !== "ErrImagePull" &&
        runtime.state.waiting?.reason !== "ImagePullBackOff";
      runtime.state = {
        waiting: {
          reason: firstTime ? "ErrImagePull" : "ImagePullBackOff",
          message:
            `image "${container.image}" cannot be run by the local node agent: it runs redis, valkey, redis-operator, coredns and redis_exporter images only`,
        },
      };
      this.#markDirty();
      if (firstTime) {
        this.#event(
          "Warning",
          "Failed",
          `Failed to pull image "${container.image}": not runnable here`,
        );
      }
      await delay(firstTime ? 1000 : 10_000, this.#stop.signal).catch(() => {});
      return "retry";
    }
    let launch;
    try {
      launch = await this.#prepare(runtime, kind);
    } catch (error) {
      // Like a kubelet, a container that cannot be set up yet waits and is tried again:
      // a missing ConfigMap or Secret, but also an API server that timed out or refused
      // (it may be stopped or restarting). Giving up would leave the pod dead for good.
      const message = error instanceof Error ? error.message : String(error);
      const reason = error instanceof MissingReferenceError
        ? "CreateContainerConfigError"
        : "CreateContainerError";
      if (runtime.state.waiting?.message !== message) {
        this.#event("Warning", "Failed", `Error: ${message}`);
      }
      runtime.state = { waiting: { reason, message } };
      this.#markDirty();
      this.#ctx.log("container not started", {
        pod: this.#name,
        container: container.name,
        reason,
        error: message,
      });
      await delay(2000, this.#stop.signal).catch(() => {});
      return "retry";
    }
    if (this.#terminating) return "retry";
    // Limits as a kubelet enforces them; a cgroup that cannot be made is logged, not fatal.
    const cgroup = await ContainerCgroup.create(
      `${this.#ctx.node.podNetnsPrefix}${
        this.uid.replace(/-/g, "").slice(0, 12)
      }-${container.name}-${runtime.restartCount}`,
      containerLimits(container),
      {
        name: `${this.#ctx.node.podNetnsPrefix}kubepods`,
        cpuShares: navigator.hardwareConcurrency * 1024,
      },
    ).catch((error) => {
      this.#ctx.log("limits not enforced", { pod: this.#name, error: String(error) });
      return undefined;
    });
    // terminate() stops the containers running when it starts: one launched after that
    // would never be stopped, and the pod never deleted.
    if (this.#terminating) {
      await cgroup?.remove();
      return "retry";
    }
    const startedAt = new Date();
    const child = launchContainer({ ...launch, cgroupDirs: cgroup?.dirs ?? [] });
    runtime.child = child;
    runtime.env = launch.env;
    runtime.user = launch.user;
    if (runtime.logFile !== launch.logFile) runtime.previousLogFile = runtime.logFile;
    runtime.logFile = launch.logFile;
    runtime.logInstance = (runtime.logInstance ?? 0) + 1;
    runtime.containerID = `node-agent://${
      this.uid.slice(0, 8)
    }-${container.name}-${runtime.restartCount}`;
    runtime.state = { running: { startedAt: startedAt.toISOString() } };
    runtime.started = false;
    runtime.ready = false;
    await this.#saveRecord();
    this.#markDirty();
    this.#event("Normal", "Started", `Started container ${container.name}`);
    const postStart = container.lifecycle?.postStart;
    const postStartFailure = postStart
      ? await this.#runHook(runtime, postStart, Date.now() + postStartLimitMs)
      : undefined;
    if (postStartFailure) {
      // As a kubelet: the container is killed, and restarted as its policy says.
      this.#event(
        "Warning",
        "FailedPostStartHook",
        `PostStartHook failed for ${container.name}: ${postStartFailure}`,
      );
      this.#signal(runtime, "SIGKILL");
    }

    const probes = new AbortController();
    const stopProbes = () => probes.abort();
    this.#stop.signal.addEventListener("abort", stopProbes);
    if (!runtime.init && !postStartFailure) {
      probeContainer(container, {
        pid: child.pid,
        podIP: this.#sandbox!.ip,
        env: launch.env,
        user: launch.user,
        portByName: (name) => container.ports?.find((p) => p.name === name)?.containerPort,
      }, {
        started: () => {
          runtime.started = true;
          this.#markDirty();
        },
        ready: (ready) => {
          runtime.ready = ready;
          this.#markDirty();
        },
        unhealthy: (probeKind, message) => {
          this.#event(
            "Normal",
            "Killing",
            `Container ${container.name} failed ${probeKind.toLowerCase()} probe, will be restarted`,
          );
          this.#ctx.log("container unhealthy", {
            pod: this.#name,
            container: container.name,
            message,
          });
          this.#signal(runtime, "SIGTERM");
          const grace = this.#pod.spec?.terminationGracePeriodSeconds ?? 30;
          delay(grace * 1000, probes.signal).then(() => this.#signal(runtime, "SIGKILL"), () => {});
        },
        failed: (probeKind, message) => {
          this.#event("Warning", "Unhealthy", `${probeKind} probe failed: ${message}`);
        },
      }, probes.signal).catch((error) =>
        this.#ctx.log("probe loop failed", { pod: this.#name, error: String(error) })
      );
    }
    const status = await child.status;
    probes.abort();
    this.#stop.signal.removeEventListener("abort", stopProbes);
    runtime.child = undefined;
    const finishedAt = new Date();
    const exitCode = status.signal ? 128 + signalNumber(status.signal) : status.code;
    const log = runtime.logFile
      ? await Deno.readFile(runtime.logFile).catch(() => new Uint8Array())
      : new Uint8Array();
    const message = terminationMessage(log, container.terminationMessagePolicy, exitCode);
    // Over its memory limit: the kernel's OOM killer ended it, as a kubelet reports it.
    const oomKilled = await cgroup?.oomKilled() ?? false;
    await cgroup?.remove();
    if (oomKilled) {
      this.#ctx.log("container OOMKilled", { pod: this.#name, container: container.name });
    }
    const terminated = {
      exitCode,
      reason: oomKilled ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error",
      ...(message === undefined ? {} : { message }),
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      ...(runtime.containerID ? { containerID: runtime.containerID } : {}),
      ...(status.signal ? { signal: signalNumber(status.signal) } : {}),
    };
    runtime.lastState = { terminated };
    runtime.state = { terminated };
    runtime.ready = false;
    this.#markDirty();
    return { exitCode, finishedAtMs: finishedAt.getTime() };
  }

  /** Volumes, environment, command and mounts for the next start of `runtime`. */
  async #prepare(runtime: ContainerRuntime, kind: ImageKind) {
    const container = runtime.spec;
    const sandbox = this.#sandbox!;
    const addresses = { podIP: sandbox.ip, hostIP: this.#ctx.node.ip };
    // Volumes are written again before every start, so a restarted container
    // sees the current ConfigMaps and Secrets (and a fresh token).
    const volumes = await this.#oneVolumeWriterAtATime(() =>
      materializeVolumes(this.#ctx.client, this.#pod, this.#dir, addresses)
    );
    const env = await resolveEnv(this.#ctx.client, this.#pod, container, addresses);
    const mounts = this.#mounts(container, volumes);
    let command: string[];
    if (kind === "operator") {
      env.DENO_DIR = this.#ctx.denoDir;
      env.DENO_NO_UPDATE_CHECK = "1";
      env.HOME ??= "/tmp";
      mounts.push({
        source: this.#ctx.layout.repoDir,
        target: this.#ctx.layout.repoDir,
        readOnly: true,
      });
      mounts.push({ source: this.#ctx.denoDir, target: this.#ctx.denoDir, readOnly: false });
      if (!this.#ctx.denoPath.startsWith("/usr/")) {
        const dir = this.#ctx.denoPath.slice(0, this.#ctx.denoPath.lastIndexOf("/"));
        mounts.push({ source: dir, target: dir, readOnly: true });
      }
      command = buildOperatorCommand(
        container,
        env,
        this.#ctx.denoPath,
        `${this.#ctx.layout.repoDir}/main.ts`,
      );
    } else if (kind === "coredns") {
      const binary = this.#ctx.corednsPath;
      if (!binary) throw new MissingReferenceError("no CoreDNS build on this node (cluster/build)");
      const dir = binary.slice(0, binary.lastIndexOf("/"));
      mounts.push({ source: dir, target: dir, readOnly: true });
      command = buildEntrypointCommand(container, env, "coredns", binary);
    } else if (kind === "redis-exporter") {
      // The Debian build reads the same flags and REDIS_* variables as the image's.
      if (!await pathExists(redisExporterPath)) {
        throw new MissingReferenceError(
          `${redisExporterPath} is not installed (apt-get install prometheus-redis-exporter)`,
        );
      }
      command = buildEntrypointCommand(container, env, "redis_exporter", redisExporterPath);
    } else {
      // The image's tag picks the build; the official images keep theirs in /usr/local/bin.
      const build = buildForImage(container.image ?? "", this.#ctx.redisBuilds());
      if (build) mounts.push({ source: build.binDir, target: "/usr/local/bin", readOnly: true });
      this.#ctx.log("redis build", {
        pod: this.#pod.metadata?.name,
        image: container.image,
        build: build ? `${build.flavor} ${build.version}` : "the host's redis-server",
      });
      const argv = buildRedisCommand(container, env, build?.flavor === "valkey");
      const configPath = redisConfigPath(argv);
      command = withImageDefaults(argv, configPath ? await readConfig(configPath, mounts) : "");
    }
    const security = { ...this.#pod.spec?.securityContext, ...container.securityContext };
    // The official image starts as root, gives the working dir to uid 999 and drops to it
    // (docker-entrypoint.sh with gosu) when it runs redis-server and no user is set. A
    // `command` of its own replaces that entrypoint, as on a kubelet, unless it names it.
    const entrypointRuns = !container.command?.length ||
      container.command[0]!.split("/").pop() === "docker-entrypoint.sh";
    const imageDropsToRedis = kind === "redis" && entrypointRuns &&
      (command[0] === "redis-server" || command[0] === "valkey-server") &&
      security.runAsUser === undefined;
    // runAsNonRoot looks at the image's user, which for redis is root until gosu.
    const imageUser = kind === "redis-exporter" ? redisExporterImageUid : 0;
    if (security.runAsNonRoot && (security.runAsUser ?? imageUser) === 0) {
      throw new MissingReferenceError("container has runAsNonRoot and image will run as root");
    }
    const rootfs = `${this.#dir}/rootfs-${container.name}`;
    await Deno.mkdir(rootfs, { recursive: true });
    const groups = [
      this.#pod.spec?.securityContext?.fsGroup,
      ...this.#pod.spec?.securityContext?.supplementalGroups ?? [],
    ]
      .filter((g) => g !== undefined);
    return {
      netns: sandbox.netns,
      rootfs,
      hostname: this.#hostname(),
      // Each image's WORKDIR: the operator's repository, redis' /data, CoreDNS' root.
      workingDir: container.workingDir ??
        (kind === "operator" ? this.#ctx.layout.repoDir : kind === "redis" ? "/data" : "/"),
      user: imageDropsToRedis
        ? `${redisImageUid}:${security.runAsGroup ?? redisImageUid}`
        : `${security.runAsUser ?? imageUser}:${security.runAsGroup ?? imageUser}`,
      chownWorkingDir: imageDropsToRedis ? String(redisImageUid) : undefined,
      groups: groups.join(","),
      readOnlyRoot: security.readOnlyRootFilesystem ?? false,
      mounts,
      command,
      env,
      logFile: await this.#newLogFile(runtime),
    };
  }

  #mounts(container: Container, volumes: VolumePaths): Mount[] {
    const mounts: Mount[] = [
      { source: `${this.#dir}/hosts`, target: "/etc/hosts", readOnly: true },
      { source: `${this.#dir}/resolv.conf`, target: "/etc/resolv.conf", readOnly: true },
    ];
    for (const mount of container.volumeMounts ?? []) {
      const source = volumes.get(mount.name);
      if (source === undefined) {
        throw new MissingReferenceError(`volume "${mount.name}" is not defined in the pod`);
      }
      mounts.push({
        source: mount.subPath ? `${source}/${mount.subPath}` : source,
        target: mount.mountPath,
        readOnly: mount.readOnly ?? false,
      });
    }
    return mounts;
  }

  /**
   * The log of this start of the container, one file per instance as a kubelet
   * keeps them (`<pod>/<container>/<restartCount>.log`), so `--previous` can be served.
   */
  async #newLogFile(runtime: ContainerRuntime): Promise<string> {
    const dir = `${this.#logPrefix}/${runtime.spec.name}`;
    await Deno.mkdir(dir, { recursive: true });
    return `${dir}/${runtime.restartCount}.log`;
  }

  /** The pod's IP, once its sandbox exists. */
  get podIP(): string | undefined {
    return this.#sandbox?.ip;
  }

  /** The pod's namespace and name. */
  get key(): { namespace: string; name: string } {
    return { namespace: this.#namespace, name: this.#name };
  }

  /** Whether the pod has a container (or init container) called `name`. */
  hasContainer(name: string): boolean {
    return this.#runtimes.some((r) => r.spec.name === name);
  }

  /**
   * The log file of a container's current (or, with `previous`, its last
   * terminated) instance, and whether that instance is still running.
   */
  containerLog(
    name: string,
    previous: boolean,
  ): { path: string; running: () => boolean } | undefined {
    const runtime = this.#runtimes.find((r) => r.spec.name === name);
    if (!runtime) return undefined;
    // While a restart is pending, restartCount already names the next instance only
    // once it starts; the current instance is the last one that has a log.
    const current = runtime.logFile;
    if (!current) return undefined;
    const instance = runtime.logInstance!;
    if (!previous) {
      return { path: current, running: () => runtime.logInstance === instance && !!runtime.child };
    }
    // As a kubelet: --previous is the last terminated instance, which is the current log
    // while the container waits to restart, and the one before while it runs again.
    const before = runtime.child ? runtime.previousLogFile : current;
    return before ? { path: before, running: () => false } : undefined;
  }

  /** The running process of container `name`, for `kubectl exec`. */
  runningContainer(name: string): RunningContainer | undefined {
    const runtime = this.#runtimes.find((r) => r.spec.name === name);
    if (!runtime?.child) return undefined;
    return { pid: runtime.child.pid, env: runtime.env ?? {}, user: runtime.user ?? "0:0" };
  }

  #hostname(): string {
    return this.#pod.spec?.hostname ?? this.#name;
  }

  #signal(runtime: ContainerRuntime, signal: Deno.Signal): void {
    try {
      runtime.child?.kill(signal);
    } catch { /* it already exited */ }
  }

  async #saveRecord(): Promise<void> {
    if (!this.#sandbox) return;
    const containers: Record<string, number> = {};
    for (const runtime of this.#runtimes) {
      if (runtime.child) containers[runtime.spec.name] = runtime.child.pid;
    }
    await writePodRecord(this.#dir, {
      namespace: this.#namespace,
      name: this.#name,
      uid: this.uid,
      netns: this.#sandbox.netns,
      hostVeth: this.#sandbox.hostVeth,
      ip: this.#sandbox.ip,
      containers,
    }).catch(() => {});
  }

  /** Schedules a status patch; patches in flight are never overlapped and changes are coalesced. */
  #markDirty(): void {
    this.#statusDirty = true;
    this.#statusFlush ??= this.#flushStatus().finally(() => {
      this.#statusFlush = undefined;
      // Marked after the loop's last check but before this ran: that change needs a flush.
      if (this.#statusDirty && !this.#tornDown) this.#markDirty();
    });
  }

  async #flushStatus(): Promise<void> {
    await delay(20);
    // Once the pod is being removed its address may be another pod's soon: no new patch.
    while (this.#statusDirty && !this.#tornDown) {
      this.#statusDirty = false;
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const snapshot = (r: ContainerRuntime): ContainerSnapshot => ({
        name: r.spec.name,
        image: r.spec.image ?? "",
        restartCount: r.restartCount,
        state: r.state,
        ready: r.ready,
        started: r.started,
        ...(r.lastState ? { lastState: r.lastState } : {}),
        ...(r.containerID ? { containerID: r.containerID } : {}),
      });
      const status = buildPodStatus(
        {
          sandboxReady: this.#sandbox !== undefined && !this.#terminating,
          ...(this.#sandbox ? { podIP: this.#sandbox.ip } : {}),
          hostIP: this.#ctx.node.ip,
          startTime: this.#startTime.replace(/\.\d+Z$/, "Z"),
          initialized: this.#initialized,
          initContainers: this.#runtimes.filter((r) => r.init).map(snapshot),
          containers: this.#runtimes.filter((r) => !r.init).map(snapshot),
          restartPolicy: this.#pod.spec?.restartPolicy ?? "Always",
        },
        this.#conditions,
        now,
      );
      try {
        await this.#ctx.client.request({
          method: "PATCH",
          path: `/api/v1/namespaces/${this.#namespace}/pods/${this.#name}/status`,
          contentType: "application/strategic-merge-patch+json",
          body: statusPatch(this.uid, status),
        });
        this.#conditions = status.conditions;
      } catch (error) {
        if (!isNotFound(error)) {
          this.#ctx.log("pod status patch failed", {
            namespace: this.#namespace,
            pod: this.#name,
            error: String(error),
          });
        }
        // Gone, its name taken by a new pod (422: the patch's uid is not the new one's), or a
        // status the API server refuses: trying again cannot help. Once the pod is being
        // removed, its final delete makes the status moot.
        if (statusPatchSettled(error) || this.#tornDown) return;
        this.#statusDirty = true;
        await delay(1000);
      }
    }
  }

  #event(type: "Normal" | "Warning", reason: string, message: string): void {
    recordEvent(this.#ctx.client, "node-agent", {
      apiVersion: "v1",
      kind: "Pod",
      namespace: this.#namespace,
      name: this.#name,
      uid: this.uid,
    }, { type, reason, message }).then((error) => {
      if (error) {
        this.#ctx.log("event not recorded", { pod: this.#name, reason, error: String(error) });
      }
    });
  }

  async #teardown(): Promise<void> {
    this.#tornDown = true;
    // The last status goes out first, as a kubelet's does, but a patch the API server does
    // not answer (frozen) must not keep the pod: the delete after it is retried anyway.
    await Promise.race([this.#statusFlush, delay(statusFlushWaitMs)]);
    if (this.#sandbox) {
      await deleteSandbox(this.#sandbox);
      this.#ctx.addresses.release(this.#sandbox.ip);
    }
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  /** Deletes the pod object, retrying until the API server has it (pod_removal.ts). */
  #deletePodObject(): Promise<void> {
    return removePodObject(
      this.#ctx.client,
      { namespace: this.#namespace, name: this.#name, uid: this.uid },
      this.#ctx.log,
    );
  }
}

/**
 * The text of a config file inside a container, read through its mounts, with the
 * files it includes appended; "" for what cannot be read (not on a volume).
 */
async function readConfig(path: string, mounts: Mount[], depth = 0): Promise<string> {
  const mount = mounts
    .filter((m) => path === m.target || path.startsWith(`${m.target.replace(/\/$/, "")}/`))
    .sort((a, b) => b.target.length - a.target.length)[0];
  if (!mount) return "";
  const text = await Deno.readTextFile(`${mount.source}${path.slice(mount.target.length)}`)
    .catch(() => "");
  if (depth >= 3) return text;
  const included = [...text.matchAll(/^\s*include\s+(\S+)/gim)].map((m) => m[1]!);
  const parts = await Promise.all(included.map((p) => readConfig(p, mounts, depth + 1)));
  return [text, ...parts].join("\n");
}
