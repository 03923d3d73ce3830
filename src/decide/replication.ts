/**
 * Which instance should be the master and what must change so every other
 * instance replicates from it. Pure: the result is a plan, carried out by
 * the reconciler.
 *
 * The seed operator's algorithm, made correct: instances are the ready pods
 * whose INFO could be read; nothing is reconfigured with fewer than two; a
 * healthy set is left alone; a lost master is replaced by the best replica
 * (lowest non-zero priority, then highest offset, never an empty instance when
 * one with data exists); a set of masters is initialised around the one with
 * data; two masters are resolved in favour of the one the status names.
 *
 * @module
 */
import type { ReplicationInfo } from "../redis/info.ts";
import type { Fencing } from "./fencing.ts";
import { parkingAddress } from "./parking.ts";

/** What the reconciler observed about one pod of the StatefulSet. */
export interface InstanceObservation {
  readonly pod: string;
  readonly ordinal: number;
  readonly ip: string;
  /** The pod is Running and Ready. */
  readonly ready: boolean;
  /** INFO replication, when it could be read. */
  readonly info?: ReplicationInfo;
  /** Why INFO could not be read. */
  readonly error?: string;
  /** How the instance failed to answer: a refused or reset connection is immediate evidence. */
  readonly unreachable?: "refused" | "timeout";
  /** How long the instance monitor has not had a PONG from it, in ms. */
  readonly silentMs?: number;
  /** The pod is being deleted (its process may still run, held by the preStop hook). */
  readonly terminating?: boolean;
  /** The pod runs an older revision of the pod template. */
  readonly outdated?: boolean;
  /** The live fencing settings, when they could be read. */
  readonly fencing?: Fencing;
  /** Its live `replica-serve-stale-data`, when it could be read. */
  readonly serveStaleData?: boolean;
  /**
   * Keys held, over every database (INFO keyspace). An instance that loaded
   * an AOF or RDB file at start holds data at replication offset 0.
   */
  readonly keys?: number;
  /** Seconds since its Redis process started (INFO server; else the container's start). */
  readonly runningSeconds?: number;
}

/** How failures are judged, and how many instances are wanted. */
export interface DetectionOptions {
  /** A master that answers nothing is replaced once it has been silent this long. */
  readonly detectionWindowMs: number;
  /** spec.replicas: a master on an ordinal at or above it must move before the scale-down. */
  readonly desiredReplicas?: number;
  /**
   * A user asked for a planned handover of the current master, to the pod `to`
   * or, without it, to the best replica (decide/switchover.ts).
   */
  readonly switchover?: { readonly to?: string };
  /**
   * Each pod keeps its data on a volume of its own (spec.dataVolumeClaimTemplate)
   * and writes it there (AOF or RDB snapshots): a pod that is gone comes back with it.
   */
  readonly persistent?: boolean;
  /**
   * Former masters that a handover left parked with reads refused, by pod,
   * and how many milliseconds each stays so (see {@linkcode readHoldMs}).
   * They are pointed at the new master only once their time is up.
   */
  readonly readHolds?: ReadonlyMap<string, number>;
}

/**
 * How long a handed-over master refuses reads before it follows the new
 * master. kube-proxy applies a new endpoint up to its `minSyncPeriod` (1 s
 * by default) after the operator writes it; until then applications that
 * reconnect through the master Service still reach the old master. Serving
 * them as a replica, it would answer reads a few milliseconds behind writes
 * the new master has acknowledged: a stale read, seen by the linearizability
 * checker in a full run. Refused (`MASTERDOWN`), they retry instead.
 */
export const readHoldMs = 2000;

/**
 * With data volumes, how long after the last candidate restarted the operator
 * waits for the recorded master's pod to come back before it promotes a
 * replica that restarted from its own, older, data (see chooseFailoverTarget).
 */
export const persistentMasterWaitSeconds = 60;

/** Why the operator itself takes the master away. */
export type HandoverReason = "MasterTerminating" | "ScaleDown" | "RollingUpdate" | "Requested";

/** An instance that takes part in replication: ready, with INFO. */
export type Instance = InstanceObservation & { readonly info: ReplicationInfo };

/** What the status says the operator decided before. */
export interface RecordedMaster {
  readonly pod?: string;
  readonly ip?: string;
}

/** Why a master is (re)chosen. */
export type PromotionReason =
  /** Every instance is a master: a new replication. */
  | "Initialize"
  /** The master is gone; a replica takes over. */
  | "Failover"
  /** More than one master has replicas: one must go. */
  | "ResolveMasters"
  /** The recorded master is gone; the one master that has replicas is recorded and kept. */
  | "Adopt";

/** The outcome of {@linkcode decideReplication}. */
export type ReplicationPlan =
  | {
    readonly kind: "Wait";
    readonly message: string;
    /** Look again this soon: the situation is expected to resolve within moments. */
    readonly recheckMs?: number;
  }
  | { readonly kind: "Healthy"; readonly master: Instance; readonly replicas: readonly Instance[] }
  | {
    readonly kind: "Reattach";
    readonly master: Instance;
    /** Instances to point at the master (`REPLICAOF master`). */
    readonly reattach: readonly Instance[];
  }
  | {
    /** A planned handover from a working master: no acknowledged write may be lost. */
    readonly kind: "Switchover";
    readonly reason: HandoverReason;
    readonly from: Instance;
    readonly master: Instance;
    readonly reattach: readonly Instance[];
  }
  | {
    readonly kind: "Promote";
    readonly reason: PromotionReason;
    readonly master: Instance;
    /** True when the new master is a replica now (`REPLICAOF NO ONE`). */
    readonly promote: boolean;
    readonly reattach: readonly Instance[];
  };

/** Fewer instances than this are never reconfigured (a master-replica pair). */
export const minimumFailoverSize = 2;

/** Decides what replication should look like, from observations alone. */
export function decideReplication(
  observations: readonly InstanceObservation[],
  recorded: RecordedMaster,
  detection: DetectionOptions = { detectionWindowMs: 2000 },
): ReplicationPlan {
  // Every instance that answers takes part, ready or not: readiness is the kubelet's view
  // and lags (a slow probe, a node that lost the API server); an answer is proof of life.
  const instances = observations.filter((o): o is Instance => o.info !== undefined);
  if (instances.length < minimumFailoverSize) {
    return {
      kind: "Wait",
      message:
        `${instances.length} of ${observations.length} instances answer: replication is reconfigured from ${minimumFailoverSize} on`,
    };
  }
  const replicatesFrom = (replica: Instance, master: Instance) =>
    replica.info.role === "replica" && replica.info.masterHost === master.ip;
  const linkedReplicas = (master: Instance) =>
    instances.filter((i) => i !== master && replicatesFrom(i, master) && i.info.masterLinkUp);
  const masters = instances.filter((i) => i.info.role === "master");
  const activeMasters = masters.filter((m) => linkedReplicas(m).length > 0);
  const isRecorded = (i: Instance) => i.pod === recorded.pod && i.ip === recorded.ip;

  const around = (master: Instance): ReplicationPlan => {
    const handover = handoverReason(master, observations, detection);
    if (handover) {
      const plan = switchover(handover, master, instances, detection);
      // A requested handover with no replica in sync is not worth holding anything up for.
      if (plan.kind !== "Wait" || handover !== "Requested") return plan;
    }
    const misplaced = instances.filter((i) =>
      i !== master && !i.terminating && !replicatesFrom(i, master)
    );
    const held = misplaced.filter((i) => heldMs(i, detection) > 0);
    const reattach = misplaced.filter((i) => !held.includes(i));
    if (reattach.length === 0 && held.length) {
      const longest = Math.max(...held.map((i) => heldMs(i, detection)));
      return {
        kind: "Wait",
        // No time left in the message: the status would change with every pass.
        message: `${
          held.map((i) => i.pod).join(", ")
        } refuses reads until kube-proxy sends clients to the new master ${master.pod}`,
        recheckMs: longest,
      };
    }
    if (reattach.length === 0) {
      return { kind: "Healthy", master, replicas: instances.filter((i) => i !== master) };
    }
    return { kind: "Reattach", master, reattach };
  };

  // The status decides: the master it names stays the master while it answers as one,
  // whatever other masters claim (a stale one may have a replica back, and its offsets
  // belong to another history). Only when it is gone is another chosen.
  const recordedMaster = masters.find(isRecorded);
  if (recordedMaster) return around(recordedMaster);
  const handedOver = followRedisHandover(instances, instances.find(isRecorded), detection);
  if (handedOver) return handedOver;

  const doubt = doubtAboutLoss(observations, instances, recorded, detection);
  if (doubt) return { kind: "Wait", message: doubt, recheckMs: 200 };

  // The recorded master's own replicas hold the history the status vouches for. A master
  // not recorded whose history lacks theirs is a stale one (a partition's old side with a
  // replica back): following it would drop what they hold, so a replica of the recorded
  // master is promoted instead, whatever copies the stale one has.
  // Only those that synced since they started: one restarted from its own disk holds keys of
  // no known history (offset 0) and says nothing of what the recorded master acknowledged.
  const recordedFollowers = instances.filter((i) =>
    followsLost(i, recorded) && holdsData(i) && hasHistory(i)
  );
  const adoptable = activeMasters.filter((m) => recordedFollowers.every((f) => inHistoryOf(f, m)));
  if (adoptable.length === 1) {
    const master = adoptable[0]!;
    // Not the recorded master (that one is gone, or nothing was recorded): recorded with
    // a new epoch before it is followed.
    return recorded.pod ? promotion("Adopt", master, instances) : around(master);
  }
  if (adoptable.length > 1) {
    // Offsets of different histories say nothing: the master with the most copies wins.
    const master = [...adoptable].sort((a, b) =>
      linkedReplicas(b).length - linkedReplicas(a).length ||
      (a.info.replId === b.info.replId ? b.info.offset - a.info.offset : 0) ||
      a.ordinal - b.ordinal
    )[0]!;
    return promotion("ResolveMasters", master, instances);
  }

  const replicas = instances.filter((i) => i.info.role === "replica");
  if (replicas.length === 0) {
    // Every instance is a master: a new replication, or one whose pods all restarted.
    return promotion("Initialize", bestCandidate(masters)!, instances);
  }
  // A replica linked to the recorded address while no pod of ours has it follows a stranger.
  const addressReused = recorded.ip !== undefined &&
    !observations.some((o) => o.pod === recorded.pod && o.ip === recorded.ip);
  const choice = chooseFailoverTarget(
    instances.filter((i) =>
      !(addressReused && i.info.masterHost === recorded.ip && i.info.masterLinkUp)
    ),
    recorded,
    detection,
  );
  if (typeof choice === "string") return { kind: "Wait", message: choice };
  return promotion("Failover", choice, instances);
}

/**
 * The replica to promote when the recorded master is lost, as Sentinel
 * chooses: only replicas of the lost master when any holds data (others hold
 * another history; a replica parked away from the lost master's address
 * counts as its replica), none whose link went down more than 10 detection
 * windows before the freshest one's (Sentinel's staleness rule, measured
 * against the freshest replica since a gone pod says nothing of when it
 * died; the only copy of the data is never refused), offsets compared only
 * within one replication history. Returns why none can be promoted otherwise.
 */
function chooseFailoverTarget(
  instances: readonly Instance[],
  recorded: RecordedMaster,
  detection: DetectionOptions,
): Instance | string {
  const eligible = instances.filter((i) =>
    (i.info.role === "master" || i.info.priority !== 0) && !i.info.syncInProgress &&
    !i.terminating
  );
  if (eligible.length === 0) {
    return "the master is lost and no replica can be promoted (all have priority 0 or are syncing)";
  }
  const followers = eligible.filter((i) => followsLost(i, recorded));
  const pool = followers.some(holdsData) ? followers : eligible;
  // Every candidate restarted from its own disk and has synced with no one since (all pods
  // were deleted or restarted at once): the master's volume holds the writes it acknowledged
  // last, which its replicas may never have received (replication is asynchronous, and they
  // stopped too). Its pod comes back with that volume: wait for it, for a while.
  if (
    detection.persistent && recorded.pod && !instances.some((i) => i.pod === recorded.pod) &&
    pool.every((i) => !hasHistory(i))
  ) {
    const sinceRestart = Math.min(...pool.map((i) => i.runningSeconds ?? Infinity));
    if (sinceRestart < persistentMasterWaitSeconds) {
      return `waiting for ${recorded.pod} to come back with its data volume (up to ${persistentMasterWaitSeconds} s after the others restarted): it has the last writes it acknowledged, the restarted replicas may not`;
    }
  }
  const freshest = Math.min(...pool.map(contactAgeSeconds));
  const staleAfterSeconds = freshest + 10 * detection.detectionWindowMs / 1000;
  // A replica that never synced is not stale but empty: the ranking puts it last.
  const fresh = pool.filter((i) => contactAgeSeconds(i) <= staleAfterSeconds || !hasHistory(i));
  if (freshest === Infinity) return bestCandidate(fresh, recorded.pod)!;
  // One history: that of the replica that heard from its master last.
  const latest = fresh.find((i) => contactAgeSeconds(i) === freshest)!;
  return bestCandidate(fresh.filter((i) => i.info.replId === latest.info.replId), recorded.pod)!;
}

/**
 * Is `i` a replica of the recorded master: pointed at its address, or parked
 * away from it when it was lost (see parking.ts)?
 */
function followsLost(i: Instance, recorded: RecordedMaster): boolean {
  return recorded.ip !== undefined && i.info.role === "replica" &&
    (i.info.masterHost === recorded.ip || i.info.masterHost === parkingAddress.host);
}

/** Does the instance hold data (a replication offset, or keys loaded from disk)? */
function holdsData(i: Instance): boolean {
  return i.info.offset > 0 || (i.keys ?? 0) > 0;
}

/** Has this instance been in sync with a master since it started (or is it one)? */
function hasHistory(i: Instance): boolean {
  if (i.info.role === "master" || i.info.masterLinkUp === true) return true;
  const linkDown = i.info.linkDownSinceSeconds ?? -1;
  // Never linked since start: -1 from Redis 7 on; before it, the seconds since 1970, which
  // is longer than the process has run.
  return linkDown >= 0 && !(i.runningSeconds !== undefined && linkDown > i.runningSeconds);
}

/**
 * Seconds since a replica last heard its master: 0 while linked. Unknown
 * (Infinity) for one that never synced, and for a master without replicas:
 * nothing tells how recent its data is.
 */
function contactAgeSeconds(i: Instance): number {
  if (i.info.role === "master") return Infinity;
  if (i.info.masterLinkUp) return 0;
  return hasHistory(i) ? i.info.linkDownSinceSeconds! : Infinity;
}

/**
 * Must the operator take `master` away? Its pod is going, or it is the last
 * one outdated: every other pod is on the new template and in sync with it. A pod
 * still being replaced (gone, or not answering yet) must come back first:
 * handing over without it leaves the new master one replica short, too few to
 * hold the old master's reads (carry_out.ts) and to survive another loss.
 */
function handoverReason(
  master: Instance,
  observations: readonly InstanceObservation[],
  detection: DetectionOptions,
): HandoverReason | undefined {
  if (master.terminating) return "MasterTerminating";
  if (detection.desiredReplicas !== undefined && master.ordinal >= detection.desiredReplicas) {
    return "ScaleDown";
  }
  // In sync too: one still in its first full copy would have to start it again from the
  // new master, and could not help it meet its fence meanwhile.
  const inSync = (o: InstanceObservation) =>
    o.info !== undefined && !o.outdated && !o.terminating && o.info.role === "replica" &&
    o.info.masterHost === master.ip && o.info.masterLinkUp === true && !o.info.syncInProgress;
  const othersUpdated = observations.every((o) => o.pod === master.pod || inSync(o)) &&
    observations.length >= (detection.desiredReplicas ?? 0);
  if (master.outdated && othersUpdated) return "RollingUpdate";
  if (detection.switchover) return "Requested";
  return undefined;
}

/** How long `instance` still refuses reads after handing over; 0 when it does not. */
function heldMs(instance: Instance, detection: DetectionOptions): number {
  const parked = instance.info.role === "replica" &&
    instance.info.masterHost === parkingAddress.host;
  return parked ? Math.max(0, detection.readHolds?.get(instance.pod) ?? 0) : 0;
}

/**
 * The recorded master answers as a replica of another of our instances: it
 * was handed over by Redis itself (a user's `FAILOVER TO`, or a `REPLICAOF`
 * sent to it). Once the target is a master whose history holds every other
 * instance's data, it is followed; a target of another history (a stale
 * former master, or one promoted behind the others with `FORCE`) is not, as
 * that would drop what the others acknowledged. In between, while `FAILOVER`
 * has demoted the old master but not yet told the target
 * (`master_failover_state:failover-in-progress`), it is waited for: the target
 * still replicates from the old master's address then, and taking that for a
 * lost master would promote some other replica over the user's choice. Only
 * for a detection window: Redis retries a handshake that fails (a target
 * loading, a refused AUTH) forever, and the old master, a replica now, no
 * longer pings the target, so the target's silence since then is the clock.
 */
function followRedisHandover(
  instances: readonly Instance[],
  former: Instance | undefined,
  detection: DetectionOptions,
): ReplicationPlan | undefined {
  if (!former || former.info.role !== "replica") return undefined;
  const target = instances.find((i) => i !== former && i.ip === former.info.masterHost);
  if (!target) return undefined;
  if (target.info.role === "master") {
    return instances.every((i) => inHistoryOf(i, target))
      ? promotion("Adopt", target, instances)
      : undefined;
  }
  const midFailover = former.info.failoverState === "failover-in-progress" &&
    target.info.masterHost === former.ip && target.info.masterLinkUp &&
    (target.info.masterLastIoSeconds ?? 0) * 1000 < detection.detectionWindowMs;
  if (!midFailover) return undefined;
  return {
    kind: "Wait",
    message: `master ${former.pod} is handing over to ${target.pod} (FAILOVER in progress)`,
    recheckMs: 100,
  };
}

/**
 * Does following `target` keep all of `instance`'s data? True when it holds
 * none, or it {@linkcode sharesHistory} with `target`.
 */
function inHistoryOf(instance: Instance, target: Instance): boolean {
  if (instance === target || !holdsData(instance)) return true;
  return sharesHistory(instance, target);
}

/**
 * Is everything `instance` holds a prefix of `target`'s history: the same
 * replication ID up to an offset `target` has, or the ID `target` had before
 * its promotion up to where that one ended? Then following `target` adds to
 * its data and never replaces it. An empty instance shares no history.
 */
export function sharesHistory(instance: Instance, target: Instance): boolean {
  if (instance.info.replId === target.info.replId) {
    return instance.info.offset <= target.info.offset;
  }
  return instance.info.replId === target.info.replId2 &&
    instance.info.offset <= target.info.secondReplOffset - 1;
}

/**
 * The handover plan: to the in-sync replica (link up, not syncing, priority
 * above 0, staying, preferably on the new revision) with the most data.
 */
function switchover(
  reason: HandoverReason,
  from: Instance,
  instances: readonly Instance[],
  detection: DetectionOptions,
): ReplicationPlan {
  const candidates = instances.filter((i) =>
    i !== from && i.info.role === "replica" && i.info.masterHost === from.ip &&
    i.info.masterLinkUp &&
    !i.info.syncInProgress && i.info.priority !== 0 && !i.terminating &&
    (detection.desiredReplicas === undefined || i.ordinal < detection.desiredReplicas) &&
    (reason !== "Requested" || detection.switchover?.to === undefined ||
      i.pod === detection.switchover.to)
  ).sort((a, b) =>
    Number(a.outdated ?? false) - Number(b.outdated ?? false) ||
    (b.info.replicaOffset ?? 0) - (a.info.replicaOffset ?? 0) ||
    a.ordinal - b.ordinal
  );
  const target = candidates[0];
  if (!target) {
    return {
      kind: "Wait",
      message: `master ${from.pod} must be handed over (${reason}) but no replica is in sync`,
    };
  }
  const reattach = instances.filter((i) =>
    i !== target && i !== from && !i.terminating &&
    !(i.info.role === "replica" && i.info.masterHost === target.ip)
  );
  return { kind: "Switchover", reason, from, master: target, reattach };
}

/**
 * Before replacing the recorded master: is there a reason to believe it still
 * works? Only proof of death skips the wait: its pod is gone, it answers as a
 * replica, or a connection to it is refused (nothing listens). A master that
 * merely does not answer, or whose connection was reset or closed (a live
 * Redis at `maxclients` closes new connections), must have been silent for
 * the detection window, and no replica may still hear from it (replicas hear
 * their master every second, see repl-ping-replica-period). Returns the
 * reason to wait, if any.
 */
function doubtAboutLoss(
  observations: readonly InstanceObservation[],
  instances: readonly Instance[],
  recorded: RecordedMaster,
  detection: DetectionOptions,
): string | undefined {
  if (!recorded.pod || !recorded.ip) return undefined;
  const master = observations.find((o) => o.pod === recorded.pod && o.ip === recorded.ip);
  if (!master || master.info) return undefined;
  // A refused connection means nothing listens there: the replicas' links are just not
  // down yet (a firewall rejecting only the operator would fool this; see the README).
  if (master.unreachable === "refused") return undefined;
  const heardBy = instances.filter((i) =>
    i.info.role === "replica" && i.info.masterHost === recorded.ip && i.info.masterLinkUp &&
    (i.info.masterLastIoSeconds ?? 0) <= 1
  );
  if (heardBy.length > 0) {
    return `master ${master.pod} does not answer the operator, but ${
      heardBy.map((i) => i.pod).join(", ")
    } still hear it`;
  }
  // No elapsed time in the message: it goes into the status, which would change every pass.
  if ((master.silentMs ?? 0) < detection.detectionWindowMs) {
    return `master ${master.pod} does not answer; it is replaced once silent for ${detection.detectionWindowMs} ms`;
  }
  return undefined;
}

function promotion(
  reason: PromotionReason,
  master: Instance,
  instances: readonly Instance[],
): ReplicationPlan {
  return {
    kind: "Promote",
    reason,
    master,
    promote: master.info.role === "replica",
    reattach: instances.filter((i) =>
      i !== master && !i.terminating &&
      !(i.info.role === "replica" && i.info.masterHost === master.ip)
    ),
  };
}

/**
 * Ranks candidates for master: instances holding data (a replication offset,
 * or keys loaded from disk at offset 0) before empty ones (an empty instance
 * must never become the master others copy), then the lowest replica
 * priority, the highest offset, the pod of the recorded master (`recordedPod`),
 * the most keys, the lowest ordinal.
 */
export function rankCandidates(
  candidates: readonly Instance[],
  recordedPod?: string,
): Instance[] {
  const priority = (i: Instance) => i.info.role === "master" ? 100 : i.info.priority ?? 100;
  const hasData = (i: Instance) => holdsData(i) ? 1 : 0;
  const recorded = (i: Instance) => recordedPod !== undefined && i.pod === recordedPod ? 1 : 0;
  return [...candidates].sort((a, b) =>
    hasData(b) - hasData(a) ||
    priority(a) - priority(b) ||
    b.info.offset - a.info.offset ||
    // Equal offsets with data: every instance restarted from its files (an AOF load starts
    // at offset 0). The pod of the last recorded master had the last writes; keys only count
    // them, and overwrites and deletes make that count say nothing of recency.
    recorded(b) - recorded(a) ||
    (b.keys ?? 0) - (a.keys ?? 0) ||
    a.ordinal - b.ordinal
  );
}

function bestCandidate(
  candidates: readonly Instance[],
  recordedPod?: string,
): Instance | undefined {
  return rankCandidates(candidates, recordedPod)[0];
}
