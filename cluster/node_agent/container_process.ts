/**
 * Starts a container's process: in the pod's network namespace, in mount and
 * UTS namespaces of its own, chrooted into a root file system with its volumes.
 *
 * @module
 */

/** A volume or host folder bound into the container. */
export interface Mount {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

/** Everything needed to start one container process. */
export interface ContainerLaunch {
  readonly netns: string;
  /** An empty folder that becomes the container's root (a tmpfs is mounted on it). */
  readonly rootfs: string;
  readonly hostname: string;
  readonly workingDir: string;
  /** `uid:gid` for chroot's --userspec. */
  readonly user: string;
  /** Files in the working dir not owned by this uid are given to it first (the redis image's entrypoint). */
  readonly chownWorkingDir?: string | undefined;
  /** Supplementary group ids, comma separated (the pod's fsGroup). */
  readonly groups: string;
  /** `readOnlyRootFilesystem`: only volumes are writable. */
  readonly readOnlyRoot: boolean;
  /** cgroup directories the process joins before anything runs (its limits: cgroups.ts). */
  readonly cgroupDirs?: readonly string[];
  readonly mounts: readonly Mount[];
  readonly command: readonly string[];
  readonly env: Record<string, string>;
  readonly logFile: string;
}

const initScript = new URL("./container_init.sh", import.meta.url).pathname;

/**
 * Starts the process. Every step execs the next (nsenter, unshare, sh, chroot),
 * so the returned child's pid is the container's main process: signalling it
 * is signalling the container.
 */
export function launchContainer(launch: ContainerLaunch): Deno.ChildProcess {
  const mountArgs = launch.mounts.flatMap((m) => [m.source, m.target, m.readOnly ? "ro" : "rw"]);
  return new Deno.Command("nsenter", {
    args: [
      `--net=/run/netns/${launch.netns}`,
      "--",
      "unshare",
      "--mount",
      "--uts",
      "--propagation",
      "private",
      "--",
      "sh",
      initScript,
      launch.logFile,
      launch.rootfs,
      launch.hostname,
      launch.workingDir,
      launch.user,
      launch.groups,
      String(launch.readOnlyRoot),
      launch.chownWorkingDir ?? "-",
      launch.cgroupDirs?.length ? launch.cgroupDirs.join(":") : "-",
      ...mountArgs,
      "--",
      ...launch.command,
    ],
    clearEnv: true,
    env: launch.env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** A running container, as far as running more commands in it goes. */
export interface RunningContainer {
  readonly pid: number;
  readonly env: Record<string, string>;
  /** `uid:gid` of its process: exec probes, hooks and `kubectl exec` run as this user. */
  readonly user: string;
}

/**
 * Runs a command inside a running container (its network, mount and UTS
 * namespaces, its root and its user), as exec probes, lifecycle hooks and
 * `kubectl exec` do on a kubelet.
 */
export async function execInContainer(
  container: RunningContainer,
  command: readonly string[],
  timeoutMs: number,
): Promise<{ code: number; output: string }> {
  await untilInOwnRoot(container.pid, timeoutMs);
  // In a session of its own, so that a timeout ends what the command started too: a
  // hook's `redis-cli` left behind by a killed shell would hold the output pipes open,
  // and a preStop hook that never ends would keep its pod from ever stopping.
  const child = new Deno.Command("setsid", {
    args: ["nsenter", ...enterContainerArgs(container, command)],
    clearEnv: true,
    env: container.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<{ code: number; output: string }>((resolve) => {
    timer = setTimeout(() => {
      try {
        Deno.kill(-child.pid, "SIGKILL");
      } catch { /* already exited */ }
      // A process that left the session still holds the pipes: stop waiting for it.
      setTimeout(() => resolve({ code: 137, output: "timed out" }), execKillWaitMs);
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      child.output().then((result) => {
        const decoder = new TextDecoder();
        return {
          code: result.code,
          output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
        };
      }),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a timed-out exec's output is waited for after its session was killed. */
const execKillWaitMs = 1000;

/**
 * Waits until the container's process has left its setup (container_init.sh)
 * and runs in its own root: until then, entering its root would enter the
 * host's, and its volumes are not mounted yet. A kubelet runs postStart hooks
 * and probes only in a started container; here they may come within
 * milliseconds of the start. Throws if the process ends or `timeoutMs` passes.
 */
export async function untilInOwnRoot(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const host = await Deno.stat("/");
  while (true) {
    // The process's root, through /proc's link: the host's until container_init.sh's chroot,
    // whatever the container's own program is called.
    const root = await Deno.stat(`/proc/${pid}/root`);
    if (root.dev !== host.dev || root.ino !== host.ino) return;
    if (Date.now() > deadline) throw new Error(`container process ${pid} still starting`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * nsenter's arguments that run `command` inside `container`: its network, mount
 * and UTS namespaces, its root and working dir, as its user.
 */
export function enterContainerArgs(
  container: RunningContainer,
  command: readonly string[],
): string[] {
  const [uid, gid] = container.user.split(":");
  return [
    `--target=${container.pid}`,
    "--net",
    "--mount",
    "--uts",
    "--root",
    "--wd",
    `--setuid=${uid ?? "0"}`,
    `--setgid=${gid ?? "0"}`,
    "--",
    ...command,
  ];
}
