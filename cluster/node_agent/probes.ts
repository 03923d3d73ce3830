/**
 * One attempt of a container probe (exec, TCP or HTTP), as the kubelet runs it.
 *
 * @module
 */
import type { Probe } from "kubernetes-types/core/v1.d.ts";
import { execInContainer, type RunningContainer } from "./container_process.ts";

/** Where a probe runs: the container's process and address. */
export interface ProbeTarget extends RunningContainer {
  readonly podIP: string;
  /** Resolves a named container port to its number. */
  readonly portByName: (name: string) => number | undefined;
}

/** The outcome of one probe attempt; `message` says why it failed. */
export interface ProbeResult {
  readonly success: boolean;
  readonly message: string;
}

/** Runs one attempt of `probe` against `target`. */
export async function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) {
      const result = await execInContainer(target, probe.exec.command ?? [], timeoutMs);
      return {
        success: result.code === 0,
        message: result.output.trim() || `exit code ${result.code}`,
      };
    }
    if (probe.tcpSocket) {
      const port = resolvePort(probe.tcpSocket.port, target);
      const connection = await withTimeout(
        Deno.connect({ hostname: probe.tcpSocket.host ?? target.podIP, port }),
        timeoutMs,
      );
      connection.close();
      return { success: true, message: "" };
    }
    if (probe.httpGet) {
      const port = resolvePort(probe.httpGet.port, target);
      const scheme = (probe.httpGet.scheme ?? "HTTP").toLowerCase();
      const host = probe.httpGet.host ?? target.podIP;
      const headers = Object.fromEntries(
        (probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]),
      );
      const response = await fetch(`${scheme}://${host}:${port}${probe.httpGet.path ?? "/"}`, {
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      const success = response.status >= 200 && response.status < 400;
      return { success, message: `HTTP probe failed with statuscode: ${response.status}` };
    }
    return { success: false, message: "probe has no handler" };
  } catch (error) {
    return { success: false, message: error instanceof Error ? error.message : String(error) };
  }
}

function resolvePort(port: number | string, target: ProbeTarget): number {
  if (typeof port === "number") return port;
  const resolved = /^\d+$/.test(port) ? Number(port) : target.portByName(port);
  if (resolved === undefined) throw new Error(`unknown named port: ${port}`);
  return resolved;
}

function withTimeout<T extends { close(): void }>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`timed out after ${ms} ms`));
      promise.then((value) => value.close(), () => {});
    }, ms);
    promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
