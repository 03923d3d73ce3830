/**
 * Follows the operator's pods during a fault mix and keeps the times when none
 * of them was Ready: no replica could fail a master over then. A mix that
 * kills the leader again and again sends both replicas into the kubelet's
 * restart back-off (a 5-minute bench mix waited out 307 s once), and a master
 * killed then is replaced only after one of them is back, long after the kill;
 * the harness must not call that failover unexplained.
 *
 * @module
 */
import type { PodList } from "kubernetes-types/core/v1.d.ts";
import { isPodReady } from "../../src/controller/observe.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import type { Outage } from "../faults/failover_windows.ts";

const podsPath =
  "/api/v1/namespaces/redis-operator/pods?labelSelector=app.kubernetes.io%2Fname%3Dredis-operator";

/** How often the operator's pods are listed. */
const pollMs = 500;

/**
 * Lists the operator's pods every {@linkcode pollMs} until stopped. An
 * outage runs from the first answer with no Ready pod to the first with one;
 * while the API server does not answer, nothing is learnt (a stopped control
 * plane is explained by the fault that stopped it).
 */
export class OperatorOutages {
  readonly #outages: Outage[] = [];
  #downSince: number | undefined;
  readonly #stop = new AbortController();
  readonly #running: Promise<void>;

  constructor(client: KubeClient) {
    this.#running = (async () => {
      while (!this.#stop.signal.aborted) {
        const pods = await client.request<PodList>({ path: podsPath }).catch(() => undefined);
        const at = Date.now();
        if (pods) this.#observe(pods.items.some(isPodReady), at);
        await new Promise((r) => setTimeout(r, pollMs));
      }
    })();
  }

  #observe(anyReady: boolean, at: number): void {
    if (!anyReady) this.#downSince ??= at;
    else if (this.#downSince !== undefined) {
      this.#outages.push({ from: this.#downSince, to: at });
      this.#downSince = undefined;
    }
  }

  /** Stops following; the outages seen, one still going ending now. */
  async stop(): Promise<Outage[]> {
    this.#stop.abort();
    await this.#running;
    if (this.#downSince !== undefined) this.#observe(true, Date.now());
    return this.#outages;
  }
}
