/**
 * Leader election on a coordination.k8s.io/v1 Lease: one operator replica
 * acts, the others wait. Updates carry the Lease's resourceVersion, so two
 * candidates can never both win the same term.
 *
 * @module
 */
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import { LeaseApi } from "../../generated/coordination.k8s.io@v1/mod.ts";
import { delay } from "../async/delay.ts";
import { isConflict, isNotFound, type RestClient } from "./client.ts";

/** Options of {@linkcode leadWhileElected}. */
export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  /** Unique per replica, e.g. the pod name. */
  readonly identity: string;
  /** A lease not renewed for this long may be taken over. */
  readonly leaseDurationMs: number;
  /** How often the leader renews. */
  readonly renewIntervalMs: number;
  /** How often a follower tries to acquire. */
  readonly retryIntervalMs: number;
  readonly fieldManager: string;
  readonly signal: AbortSignal;
  readonly onLeadershipChange?: (leading: boolean) => void;
  readonly onError?: (error: unknown) => void;
}

/**
 * Waits to become leader, then runs `lead` with a signal that aborts the
 * moment leadership is lost (a renewal fails past the lease duration, or
 * another holder appears). Returns when leadership is lost or `signal` aborts.
 */
export async function leadWhileElected(
  client: RestClient,
  options: LeaderElectionOptions,
  lead: (signal: AbortSignal) => Promise<void>,
): Promise<"lost" | "stopped"> {
  const leases = new LeaseApi(client);
  while (!options.signal.aborted) {
    if (await tryAcquireOrRenew(leases, options)) break;
    await delay(options.retryIntervalMs, options.signal).catch(() => {});
  }
  if (options.signal.aborted) return "stopped";
  options.onLeadershipChange?.(true);
  const leading = new AbortController();
  const stopLeading = () => leading.abort(new Error("stopped"));
  options.signal.addEventListener("abort", stopLeading);
  const work = lead(leading.signal).catch((error) => options.onError?.(error));
  let lastRenewal = Date.now();
  try {
    while (!options.signal.aborted) {
      await delay(options.renewIntervalMs, options.signal).catch(() => {});
      if (options.signal.aborted) break;
      if (await tryAcquireOrRenew(leases, options)) {
        lastRenewal = Date.now();
      } else if (Date.now() - lastRenewal >= options.leaseDurationMs - options.renewIntervalMs) {
        // Someone else may take the lease now: stop acting before they can start.
        leading.abort(new Error("leadership lost"));
        options.onLeadershipChange?.(false);
        await work;
        return "lost";
      }
    }
  } finally {
    options.signal.removeEventListener("abort", stopLeading);
  }
  leading.abort(new Error("stopped"));
  await work;
  await release(leases, options).catch(() => {});
  options.onLeadershipChange?.(false);
  return "stopped";
}

/** One attempt to take or keep the lease; true when we hold it afterwards. */
async function tryAcquireOrRenew(
  leases: LeaseApi,
  options: LeaderElectionOptions,
): Promise<boolean> {
  const now = new Date();
  const microTime = now.toISOString().replace("Z", "000Z");
  try {
    let current: Lease | undefined;
    try {
      current = await leases.get(options.namespace, options.name, { signal: options.signal });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const spec = current?.spec;
    const holder = spec?.holderIdentity;
    const renewed = spec?.renewTime ? Date.parse(spec.renewTime) : 0;
    const durationMs = (spec?.leaseDurationSeconds ?? 0) * 1000;
    const expired = !holder || renewed + durationMs < now.getTime();
    if (holder && holder !== options.identity && !expired) return false;
    const takingOver = holder !== options.identity;
    const body: Lease = {
      metadata: {
        name: options.name,
        namespace: options.namespace,
        // The precondition that makes concurrent takeovers safe.
        ...(current?.metadata?.resourceVersion
          ? { resourceVersion: current.metadata.resourceVersion }
          : {}),
      },
      spec: {
        holderIdentity: options.identity,
        leaseDurationSeconds: Math.ceil(options.leaseDurationMs / 1000),
        renewTime: microTime,
        ...(takingOver
          ? {
            acquireTime: microTime,
            leaseTransitions: (spec?.leaseTransitions ?? 0) + (holder ? 1 : 0),
          }
          : {}),
      },
    };
    if (current) {
      await leases.apply(options.namespace, body, {
        fieldManager: options.fieldManager,
        force: true,
        signal: options.signal,
      });
    } else {
      await leases.create(options.namespace, body, { signal: options.signal });
    }
    return true;
  } catch (error) {
    if (!isConflict(error) && !options.signal.aborted) options.onError?.(error);
    return false;
  }
}

/** Gives the lease up on a clean stop, so a follower takes over at once. */
async function release(leases: LeaseApi, options: LeaderElectionOptions): Promise<void> {
  const current = await leases.get(options.namespace, options.name);
  if (current.spec?.holderIdentity !== options.identity) return;
  await leases.patch(options.namespace, options.name, {
    metadata: { resourceVersion: current.metadata?.resourceVersion },
    spec: { holderIdentity: null, renewTime: null },
  });
}
