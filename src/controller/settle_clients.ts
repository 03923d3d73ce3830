/**
 * After a change of master, applications that reach Redis through the master
 * Service can still land on a replica: kube-proxy applies the new endpoint up
 * to its `minSyncPeriod` (1 s by default) after the operator writes it, and a
 * client that reconnects in that second (the reconfiguration disconnected it)
 * may reach an instance that is, or is about to be, a replica. One whose
 * library does not reconnect on READONLY then stays there (measured: ioredis
 * at its defaults, for minutes). So, once kube-proxy has surely moved, every
 * replica disconnects its normal clients once more, and they come back through
 * the Service to the master. Readers of replicas reconnect too, once per
 * change of master, as they do when Sentinel reconfigures a replica.
 *
 * Best effort: a timer in this process. If the controller stops first (lost
 * leadership, shutdown), it is dropped; nothing depends on it for safety.
 *
 * @module
 */
import { delay } from "../async/delay.ts";
import type { Credential } from "../redis/client.ts";
import type { ReconcileDeps } from "./deps.ts";
import type { Reach } from "./reach.ts";
import { passRunning } from "./pass_stage.ts";

/** kube-proxy's default `minSyncPeriod`, with room for its sync and our slice write. */
export const serviceSettleMs = 2000;

/** How long the settle waits for a moment when no pass of its Redis runs. */
export const settleGapWaitMs = 10_000;

/** An instance to settle: its address and the credential it accepted this pass. */
export interface SettleTarget {
  readonly ip: string;
  readonly credential: Credential | undefined;
}

/**
 * In {@linkcode serviceSettleMs}, disconnects the normal clients of every
 * instance in `replicas` (not the new master).
 */
export function settleClientsLater(
  deps: Pick<ReconcileDeps, "connect" | "log" | "signal">,
  key: string,
  replicas: readonly SettleTarget[],
  reach: Reach,
): void {
  if (replicas.length === 0) return;
  const run = async () => {
    await delay(serviceSettleMs, deps.signal);
    // Not while a pass of the same Redis runs: its own connections are normal clients too,
    // and a handover whose promotion connection is killed fails (seen in a full run, when a
    // requested switchover came 2 s after the previous change of master).
    // Passes come often while a failover settles (a restarted pod is reattached, the
    // status catches up), but each is short: wait for a gap between them rather than give
    // up, or a client that kube-proxy put on a replica stays there (a full run saw redis-py
    // on READONLY for 134 s after a kill -9).
    const waitUntil = Date.now() + settleGapWaitMs;
    while (passRunning(key) && Date.now() < waitUntil) await delay(20, deps.signal);
    if (passRunning(key)) {
      deps.log.warn("clients not settled: a pass kept running", { key });
      return;
    }
    await Promise.all(replicas.map(async ({ ip, credential }) => {
      try {
        const node = await deps.connect({
          host: ip,
          port: reach.port,
          ...(reach.tls ? { tls: reach.tls } : {}),
          ...(credential?.password ? credential : {}),
        });
        try {
          await node.disconnectClients();
        } finally {
          node.close();
        }
      } catch (error) {
        deps.log.debug("clients not settled", { ip, error: String(error) });
      }
    }));
  };
  run().catch(() => {/* the controller stopped: nothing to do */});
}
