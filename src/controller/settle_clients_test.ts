import assert from "node:assert/strict";
import type { RedisNode } from "../redis/client.ts";
import { watchedPass } from "./pass_stage.ts";
import { serviceSettleMs, settleClientsLater } from "./settle_clients.ts";

/** Dependencies whose one replica records when its clients were disconnected. */
function recordingSettle() {
  const settled: { at?: number } = {};
  const node = {
    disconnectClients: () => {
      settled.at = Date.now();
      return Promise.resolve();
    },
    close: () => {},
  } as unknown as RedisNode;
  const log = { debug: () => {}, warn: () => {} } as never;
  return { settled, log, deps: { connect: () => Promise.resolve(node), log } };
}

/** Resolves once `settled.at` is set or 2 s have passed. */
async function settledWithin2s(settled: { at?: number }): Promise<void> {
  const deadline = Date.now() + 2000;
  while (settled.at === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("settleClientsLater() waits for a running pass of the same Redis, whose connections it would kill", async () => {
  const { settled, log, deps } = recordingSettle();
  const passEnds = Date.now() + serviceSettleMs + 500;
  const pass = watchedPass("ns/busy", log, async () => {
    // A handover in progress when the settle is due.
    await new Promise((r) => setTimeout(r, passEnds - Date.now()));
  });
  settleClientsLater(deps, "ns/busy", [{ ip: "10.0.0.1", credential: undefined }], {
    port: 6379,
  });
  await pass;
  await settledWithin2s(settled);
  assert.ok(settled.at !== undefined, "the replica's clients were settled");
  assert.ok(settled.at >= passEnds, `settled ${passEnds - settled.at} ms before the pass ended`);
});

Deno.test("settleClientsLater() still settles when a pass runs well past the settle time (it used to give up after 2 s)", async () => {
  const { settled, log, deps } = recordingSettle();
  const passEnds = Date.now() + serviceSettleMs + 4000;
  const pass = watchedPass("ns/slow", log, async () => {
    await new Promise((r) => setTimeout(r, passEnds - Date.now()));
  });
  settleClientsLater(deps, "ns/slow", [{ ip: "10.0.0.1", credential: undefined }], {
    port: 6379,
  });
  await pass;
  await settledWithin2s(settled);
  assert.ok(settled.at !== undefined, "the replica's clients were settled after the pass");
});
