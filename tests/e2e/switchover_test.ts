/**
 * Manual switchover (issue 11): `kubectl annotate redis NAME
 * redis-operator.dev/switchover=POD` hands the master over to that replica
 * through the zero-loss fence-and-swap path, under write load, and the
 * annotation goes once served; a request that cannot be carried out is
 * reported (Degraded, SwitchoverRefused, an Event) and moves nothing; the
 * epoch form (what SENTINEL FAILOVER sets) picks the best replica.
 */
import assert from "node:assert/strict";
import type { Event } from "kubernetes-types/core/v1.d.ts";
import { kubectl, waitFor } from "../cluster/helpers.ts";
import { lostWrites, WriteLoad } from "../chaos/write_load.ts";
import { withReadyRedis } from "./fixture.ts";
import { getRedis, waitForReady } from "./operator.ts";

const annotation = "redis-operator.dev/switchover";

Deno.test("manual switchover: to a named replica with no write lost; refused clearly when it cannot be", () =>
  withReadyRedis("switchover", "sw", async ({ client, namespace: n, ready: before }) => {
    const annotate = (value: string) =>
      kubectl(["-n", n, "annotate", "--overwrite", "redis", "sw", `${annotation}=${value}`]);
    const target = ["redis-sw-0", "redis-sw-1", "redis-sw-2"].find((p) =>
      p !== before.status!.master
    )!;
    const load = new WriteLoad(client, n, "redis-sw-master");
    await load.start();
    await new Promise((r) => setTimeout(r, 1000));

    await annotate(target);
    const moved = await waitFor(`the master to be ${target}, the request removed`, async () => {
      const now = await getRedis(client, n, "sw");
      return now.status?.master === target && !now.metadata?.annotations?.[annotation]
        ? now
        : undefined;
    }, 60_000);
    assert.equal(moved.status!.epoch, before.status!.epoch! + 1);
    await waitForReady(client, n, "sw");
    await new Promise((r) => setTimeout(r, 1000));
    const report = await load.stop();
    assert.deepEqual(await lostWrites(moved.status!.masterIP!, report.acks), [], "zero loss");
    const events = await client.request<{ items: Event[] }>({
      path: `/api/v1/namespaces/${n}/events?fieldSelector=involvedObject.name%3Dsw`,
    });
    assert.ok(
      events.items.some((e) =>
        e.reason === "MasterChanged" && /planned handover/.test(e.message ?? "") &&
        (e.message ?? "").includes(target)
      ),
      "an Event says so",
    );

    // A pod that does not exist: reported, nothing moves, Ready stays.
    await annotate("redis-sw-9");
    const refused = await waitFor("the refusal in the status", async () => {
      const now = await getRedis(client, n, "sw");
      const degraded = now.status?.conditions?.find((c) => c.type === "Degraded");
      return degraded?.status === "True" && degraded.reason === "SwitchoverRefused"
        ? now
        : undefined;
    }, 30_000);
    const condition = (type: string) => refused.status?.conditions?.find((c) => c.type === type);
    assert.match(condition("Degraded")!.message!, /no pod redis-sw-9/);
    assert.equal(condition("Ready")?.status, "True");
    assert.equal(refused.status!.master, target);
    await waitFor("a SwitchoverRefused Event", async () => {
      const events = await client.request<{ items: Event[] }>({
        path: `/api/v1/namespaces/${n}/events?fieldSelector=involvedObject.name%3Dsw`,
      });
      return events.items.some((e) => e.reason === "SwitchoverRefused") || undefined;
    });

    // The epoch form (SENTINEL FAILOVER's): the best replica takes over, once.
    await annotate(String(refused.status!.epoch));
    const again = await waitFor("another master", async () => {
      const now = await getRedis(client, n, "sw");
      return now.status?.master && now.status.master !== target ? now : undefined;
    }, 60_000).catch(async (error) => {
      // Seen once in a full run (not alone): what the operator saw and said, for the next look.
      const now = await getRedis(client, n, "sw");
      const events = await client.request<{ items: Event[] }>({
        path: `/api/v1/namespaces/${n}/events`,
      });
      console.log(JSON.stringify(
        {
          annotations: now.metadata?.annotations,
          status: now.status,
          events: events.items.slice(-15).map((e) => `${e.reason}: ${e.message}`),
        },
        null,
        2,
      ));
      throw error;
    });
    assert.equal(again.status!.epoch, refused.status!.epoch! + 1);
    const settled = await waitForReady(client, n, "sw");
    assert.equal(settled.status!.master, again.status!.master, "served once");
    assert.notEqual(
      settled.status?.conditions?.find((c) => c.type === "Degraded")?.reason,
      "SwitchoverRefused",
    );
  }));
