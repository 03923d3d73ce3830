/**
 * Keeps a connection to every instance of one Redis and PINGs it often, so a
 * failure is noticed in well under a second: a refused or reset connection is
 * immediate evidence; an instance that stops answering is reported once it
 * has been silent for the detection window.
 *
 * @module
 */
import { Redis } from "ioredis";
import { tlsOptions, type TlsSettings } from "./client.ts";

/** What the monitor reports about an instance. */
export type Evidence = "reset" | "silent";

/** Options of {@linkcode InstanceMonitor}. */
export interface MonitorOptions {
  readonly pingIntervalMs?: number;
  readonly onEvidence: (ip: string, evidence: Evidence) => void;
  /**
   * A connection silent this long (and at least this old) is replaced by a
   * new one; 5 s by default. See {@linkcode InstanceMonitor}.
   */
  readonly renewAfterMs?: number;
  /**
   * Called when a silent connection is replaced, with the old one's state;
   * `first` is false for the later renewals of one silence (an instance that
   * stays down is renewed every `renewAfterMs`, which says nothing new).
   */
  readonly onRenew?: (ip: string, oldStatus: string, first: boolean) => void;
}

interface Watched {
  readonly client: Redis;
  readonly timer: ReturnType<typeof setInterval>;
  /** When this connection was made. */
  readonly since: number;
  /** When the last PONG arrived (or watching began). */
  lastReply: number;
  connected: boolean;
  silenceReported: boolean;
  /** Whether this silence already cost a renewal (carried over, like lastReply). */
  renewedInSilence: boolean;
  windowMs: number;
  /** How it is reached: a change of port or CA starts a new connection. */
  readonly reach: string;
}

/** Any reply ends a silence: its report and its renewals start over. */
function answered(watched: Watched): void {
  watched.lastReply = Date.now();
  watched.silenceReported = false;
  watched.renewedInSilence = false;
}

/**
 * Watches the instances of one Redis.
 *
 * A connection that stays silent for {@linkcode MonitorOptions.renewAfterMs},
 * or whose client ended (ioredis stopped reconnecting), is replaced: an instance the monitor calls silent is not asked by the
 * reconcile pass (observe.ts), so a client that stopped trying to reconnect
 * would hide a live instance for good. At scale one did (a replica counted as
 * unreachable for minutes while it replicated, without a socket open to it).
 * Silence carries over to the new connection: the detection window is not reset.
 */
export class InstanceMonitor {
  readonly #watched = new Map<string, Watched>();
  readonly #options: MonitorOptions;

  constructor(options: MonitorOptions) {
    this.#options = options;
  }

  /**
   * Watches exactly `ips` (on `port`, over TLS with `tls`) from now on; stops
   * watching the others.
   */
  sync(ips: readonly string[], port: number, windowMs: number, tls?: TlsSettings): void {
    const reach = `${port}:${tls?.ca ?? ""}`;
    for (const [ip, watched] of this.#watched) {
      if (!ips.includes(ip) || watched.reach !== reach) this.#stop(ip);
    }
    for (const ip of ips) {
      const existing = this.#watched.get(ip);
      if (existing) existing.windowMs = windowMs;
      else this.#start(ip, port, windowMs, reach, tls);
    }
  }

  /** The connection watching `ip`, for tests that break it. */
  connectionOf(ip: string): Redis | undefined {
    return this.#watched.get(ip)?.client;
  }

  /** Has `ip` answered a PING within the last two intervals? */
  answering(ip: string): boolean {
    const watched = this.#watched.get(ip);
    return watched !== undefined && watched.connected &&
      Date.now() - watched.lastReply < (this.#options.pingIntervalMs ?? 500) * 2;
  }

  /**
   * How long `ip` has not answered, in ms (since the last PONG, or since
   * watching began): 0 while it answers, undefined when not watched.
   */
  silentForMs(ip: string): number | undefined {
    const watched = this.#watched.get(ip);
    if (!watched) return undefined;
    return this.answering(ip) ? 0 : Date.now() - watched.lastReply;
  }

  /** Closes every connection. */
  close(): void {
    for (const ip of [...this.#watched.keys()]) this.#stop(ip);
  }

  #start(
    ip: string,
    port: number,
    windowMs: number,
    reach: string,
    tls?: TlsSettings,
    carried?: Pick<Watched, "lastReply" | "silenceReported" | "renewedInSilence">,
  ): void {
    const interval = this.#options.pingIntervalMs ?? 500;
    const client = new Redis({
      host: ip,
      port,
      ...(tls ? { tls: tlsOptions(tls) } : {}),
      // No AUTH: a NOAUTH reply proves the process answers as well as a PONG does,
      // and a password rotation cannot make an instance look silent.
      connectTimeout: interval * 2,
      commandTimeout: interval,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      // Keep trying: the same address often comes back (a restarted container).
      retryStrategy: () => interval / 2,
    });
    const watched: Watched = {
      client,
      timer: setInterval(() => this.#ping(ip, watched, { port, tls }), interval),
      since: Date.now(),
      lastReply: carried?.lastReply ?? Date.now(),
      connected: false,
      silenceReported: carried?.silenceReported ?? false,
      renewedInSilence: carried?.renewedInSilence ?? false,
      windowMs,
      reach,
    };
    const lost = () => {
      if (!watched.connected || this.#watched.get(ip) !== watched) return;
      watched.connected = false;
      this.#options.onEvidence(ip, "reset");
    };
    client.on("ready", () => {
      watched.connected = true;
      // PING at once: a connection that an operator's CLIENT KILL reset could otherwise
      // count as silent until its next PING, and a healthy instance be taken for
      // unreachable. The connection itself is no answer (without a ready check ioredis is
      // ready once TCP connects, and the kernel accepts for a stopped process too).
      void this.#ping(ip, watched, { port, tls });
    });
    client.on("close", lost);
    client.on("error", (error: Error & { code?: string }) => {
      if (error.code === "ECONNREFUSED" || error.code === "ECONNRESET" || error.code === "EPIPE") {
        lost();
      }
    });
    this.#watched.set(ip, watched);
  }

  async #ping(
    ip: string,
    watched: Watched,
    how: { port: number; tls: TlsSettings | undefined },
  ): Promise<void> {
    const interval = this.#options.pingIntervalMs ?? 500;
    try {
      await watched.client.ping();
      if (this.#watched.get(ip) !== watched) return; // stopped or renewed meanwhile
      watched.connected = true;
      answered(watched);
    } catch (error) {
      if ((error as Error).name === "ReplyError") {
        // An error reply (NOAUTH, LOADING...) still proves the process answers.
        if (this.#watched.get(ip) !== watched) return;
        answered(watched);
        return;
      }
      if (this.#watched.get(ip) !== watched) return; // stopped or renewed meanwhile
      const now = Date.now();
      const silent = now - watched.lastReply;
      if (silent >= watched.windowMs && !watched.silenceReported) {
        watched.silenceReported = true;
        this.#options.onEvidence(ip, "silent");
      }
      const renewAfterMs = this.#options.renewAfterMs ?? 5000;
      const age = now - watched.since;
      // A client that ended will never reconnect: it is replaced at once (within the
      // detection window, so a live master is not taken for silent); any other stays
      // until renewAfterMs, as ioredis may still be reconnecting it.
      const gaveUp = watched.client.status === "end" && age >= interval * 2;
      if (gaveUp || (silent >= renewAfterMs && age >= renewAfterMs)) {
        this.#options.onRenew?.(ip, watched.client.status, !watched.renewedInSilence);
        watched.renewedInSilence = true;
        this.#stop(ip);
        this.#start(ip, how.port, watched.windowMs, watched.reach, how.tls, watched);
      }
    }
  }

  #stop(ip: string): void {
    const watched = this.#watched.get(ip);
    if (!watched) return;
    clearInterval(watched.timer);
    // Closed on purpose: its close event is no evidence about the instance.
    watched.connected = false;
    watched.client.disconnect();
    this.#watched.delete(ip);
  }
}
