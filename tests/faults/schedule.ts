/**
 * A seeded schedule of faults for the mixed chaos run (issue 12): the same
 * seed gives the same faults, targets by role, hold times and pauses, so a
 * failing run can be replayed. Pure.
 *
 * @module
 */

/** The faults a schedule draws from. Targets are roles, resolved when the fault starts. */
export const faultKinds = [
  "kill-master",
  "kill-replica",
  "stop-master",
  "stop-replica",
  "isolate-master",
  "isolate-replica",
  "cut-master-from-operator",
  "cut-master-from-replicas",
  "kill-leader",
] as const;

/** One kind of fault. */
export type FaultKind = typeof faultKinds[number];

/** One step of a schedule: a fault, held, healed, then a pause. */
export interface FaultStep {
  readonly kind: FaultKind;
  /** How long the fault lasts before it is healed (0 for kills: a kill heals itself). */
  readonly holdMs: number;
  /** The leading operator killed at the same moment: an operator lost mid-failover. */
  readonly alsoKillLeader: boolean;
  /** A replica stopped (SIGSTOP) for the same hold: two faults at once. */
  readonly alsoStopReplica: boolean;
  /**
   * A part of the control plane frozen (SIGSTOP) `afterMs` after the fault
   * begins, until the step's heal: a failover that must wait for it. Never
   * drawn by {@linkcode planFaults}; tests/chaos/control_plane_test.ts names
   * its steps.
   */
  readonly alsoStopControlPlane?: ControlPlaneStop;
  /**
   * The leading operator cut off from the API server at the fault, until the
   * step's heal, while it still reaches every Redis: a leader that must step
   * down mid-failover. Never drawn by {@linkcode planFaults} (a new draw would
   * change every seed's schedule); tests/chaos/control_plane_test.ts names it.
   */
  readonly alsoCutLeaderFromApiServer?: boolean;
  /** The quiet time after the heal, once the Redis is Ready again. */
  readonly pauseMs: number;
  /** In [0, 1): which replica, when the fault or its companion takes one. */
  readonly pick: number;
}

/** Which control-plane process a step freezes, and when after its fault. */
export interface ControlPlaneStop {
  readonly daemon: "kube-apiserver" | "etcd";
  readonly afterMs: number;
}

/** mulberry32: a small, well-mixed 32-bit generator; enough to replay a schedule. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Does the fault take the master away, so that a failover may follow? */
export function takesMasterAway(kind: FaultKind): boolean {
  return kind === "kill-master" || kind === "stop-master" || kind === "isolate-master";
}

/**
 * The faults of a run whose holds and pauses add up to at most `durationMs`
 * (the time the Redis needs to become Ready again comes on top). Holds range
 * from under to well over a 2 s detection window, so a run has both faults
 * the operator must ride out and faults it must repair.
 */
export function planFaults(seed: number, durationMs: number): FaultStep[] {
  const random = seededRandom(seed);
  const between = (low: number, high: number) => Math.round(low + random() * (high - low));
  const steps: FaultStep[] = [];
  let planned = 0;
  for (;;) {
    const kind = faultKinds[Math.floor(random() * faultKinds.length)]!;
    const holds = kind !== "kill-master" && kind !== "kill-replica" && kind !== "kill-leader";
    const holdMs = holds ? between(1000, 6000) : 0;
    // Combined faults only where they stay inside what one failover must survive.
    const alsoKillLeader = takesMasterAway(kind) && random() < 0.3;
    const alsoStopReplica = takesMasterAway(kind) && kind !== "kill-master" && random() < 0.15;
    const pauseMs = between(1000, 3000);
    const pick = random();
    if (planned + holdMs + pauseMs > durationMs && steps.length > 0) return steps;
    steps.push({
      kind,
      holdMs: alsoStopReplica ? Math.max(holdMs, 1000) : holdMs,
      alsoKillLeader,
      alsoStopReplica,
      pauseMs,
      pick,
    });
    planned += holdMs + pauseMs;
  }
}

/** A schedule in one line per step, for the log and docs/measurements.md. */
export function describeSchedule(steps: readonly FaultStep[]): string {
  return steps.map((s, i) =>
    `${i + 1}. ${s.kind}${s.holdMs ? ` for ${s.holdMs} ms` : ""}${
      s.alsoKillLeader ? " + leader killed" : ""
    }${s.alsoCutLeaderFromApiServer ? " + leader cut from the API server" : ""}${
      s.alsoStopReplica ? " + a replica stopped" : ""
    }${
      s.alsoStopControlPlane
        ? ` + ${s.alsoStopControlPlane.daemon} stopped ${s.alsoStopControlPlane.afterMs} ms in`
        : ""
    }, pause ${s.pauseMs} ms`
  ).join("\n");
}
