/**
 * Long-running processes of the local cluster: started detached (own session),
 * output appended to a log file, pid recorded in a pid file.
 *
 * @module
 */
import { isAlive } from "./netns.ts";

/** A process the cluster tooling starts and stops by name. */
export interface DaemonSpec {
  readonly name: string;
  readonly command: string[];
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

/** Reads a pid file; undefined when absent or unreadable. */
export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(Deno.readTextFileSync(pidFile).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of a daemon when its process is alive. */
export function runningPid(pidDir: string, name: string): number | undefined {
  const pid = readPid(`${pidDir}/${name}.pid`);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/**
 * Starts `spec` detached unless it already runs; returns its pid. The process
 * outlives the caller, its output goes to `<logDir>/<name>.log`.
 */
export function startDaemon(spec: DaemonSpec, pidDir: string, logDir: string): number {
  const existing = runningPid(pidDir, spec.name);
  if (existing !== undefined) return existing;
  Deno.mkdirSync(pidDir, { recursive: true });
  Deno.mkdirSync(logDir, { recursive: true });
  const log = `${logDir}/${spec.name}.log`;
  // `exec` keeps the pid: the pid we record is the daemon's own.
  const child = new Deno.Command("sh", {
    args: ["-c", `exec "$@" >>"${log}" 2>&1 </dev/null`, "sh", ...spec.command],
    detached: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    ...(spec.env ? { env: spec.env } : {}),
    ...(spec.cwd ? { cwd: spec.cwd } : {}),
  }).spawn();
  child.unref();
  Deno.writeTextFileSync(`${pidDir}/${spec.name}.pid`, `${child.pid}\n`);
  return child.pid;
}

/** The last lines of a daemon's log, for error messages. */
export function logTail(logDir: string, name: string, lines = 15): string {
  try {
    return Deno.readTextFileSync(`${logDir}/${name}.log`).trimEnd().split("\n").slice(-lines)
      .join("\n");
  } catch {
    return "(no log)";
  }
}
