/**
 * Runs a running container's startup, readiness and liveness probes on their
 * schedules and reports the outcomes, with the kubelet's thresholds.
 *
 * @module
 */
import type { Container, Probe } from "kubernetes-types/core/v1.d.ts";
import { delay } from "../../src/async/delay.ts";
import { type ProbeTarget, runProbe } from "./probes.ts";

/** What the probe loop tells its container. */
export interface ProbeListener {
  /** The startup probe passed (or there is none). */
  started(): void;
  /** Readiness changed. */
  ready(ready: boolean): void;
  /** A liveness or startup probe failed too often: the container must be restarted. */
  unhealthy(kind: "Liveness" | "Startup", message: string): void;
  /** One probe attempt failed (for an Event). */
  failed(kind: "Liveness" | "Readiness" | "Startup", message: string): void;
}

/** Probes `container` until `signal` aborts. */
export async function probeContainer(
  container: Container,
  target: ProbeTarget,
  listener: ProbeListener,
  signal: AbortSignal,
): Promise<void> {
  try {
    if (container.startupProbe) {
      const passed = await untilThreshold(
        container.startupProbe,
        target,
        signal,
        (message) => listener.failed("Startup", message),
      );
      if (!passed.success) {
        listener.unhealthy("Startup", passed.message);
        return;
      }
    }
    listener.started();
    if (!container.readinessProbe) listener.ready(true);
    await Promise.all([
      container.readinessProbe &&
      watchReadiness(container.readinessProbe, target, listener, signal),
      container.livenessProbe && watchLiveness(container.livenessProbe, target, listener, signal),
    ]);
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

/** Probes until success or `failureThreshold` failures in a row. */
async function untilThreshold(
  probe: Probe,
  target: ProbeTarget,
  signal: AbortSignal,
  onFailure: (message: string) => void,
): Promise<{ success: boolean; message: string }> {
  await delay((probe.initialDelaySeconds ?? 0) * 1000, signal);
  let failures = 0;
  while (true) {
    const result = await runProbe(probe, target);
    if (signal.aborted) throw signal.reason;
    if (result.success) return result;
    onFailure(result.message);
    if (++failures >= (probe.failureThreshold ?? 3)) return result;
    await delay((probe.periodSeconds ?? 10) * 1000, signal);
  }
}

async function watchReadiness(
  probe: Probe,
  target: ProbeTarget,
  listener: ProbeListener,
  signal: AbortSignal,
): Promise<void> {
  await delay((probe.initialDelaySeconds ?? 0) * 1000, signal);
  let ready = false;
  let successes = 0;
  let failures = 0;
  while (true) {
    const result = await runProbe(probe, target);
    if (signal.aborted) return;
    if (result.success) {
      failures = 0;
      if (!ready && ++successes >= (probe.successThreshold ?? 1)) {
        ready = true;
        listener.ready(true);
      }
    } else {
      successes = 0;
      listener.failed("Readiness", result.message);
      // Until the first success the container is not ready anyway.
      if (ready && ++failures >= (probe.failureThreshold ?? 3)) {
        ready = false;
        listener.ready(false);
      }
    }
    await delay((probe.periodSeconds ?? 10) * 1000, signal);
  }
}

async function watchLiveness(
  probe: Probe,
  target: ProbeTarget,
  listener: ProbeListener,
  signal: AbortSignal,
): Promise<void> {
  const result = await untilThresholdForever(probe, target, signal, listener);
  listener.unhealthy("Liveness", result);
}

/** Probes forever; returns the last message once `failureThreshold` failures come in a row. */
async function untilThresholdForever(
  probe: Probe,
  target: ProbeTarget,
  signal: AbortSignal,
  listener: ProbeListener,
): Promise<string> {
  await delay((probe.initialDelaySeconds ?? 0) * 1000, signal);
  let failures = 0;
  while (true) {
    const result = await runProbe(probe, target);
    if (signal.aborted) throw signal.reason;
    if (result.success) {
      failures = 0;
    } else {
      listener.failed("Liveness", result.message);
      if (++failures >= (probe.failureThreshold ?? 3)) return result.message;
    }
    await delay((probe.periodSeconds ?? 10) * 1000, signal);
  }
}
