import assert from "node:assert/strict";
import type { RedisNode } from "../redis/client.ts";
import { watchedPass } from "./pass_stage.ts";
import { serviceSettleMs, settleClientsLater } from "./settle_clients.ts";

Deno.test("settleClientsLater() waits for a running pass of the same Redis, whose connections it would kill", async () => {
  let killedAt: number | undefined;
  const node = {
    disconnectClients: () => {
      killedAt = Date.now();
      return Promise.resolve();
    },
    close: () => {},
  } as unknown as RedisNode;
  const log = { debug: () => {}, warn: () => {} };
  const deps = { connect: () => Promise.resolve(node), log: log as never };
  const passEnds = Date.now() + serviceSettleMs + 500;
  const pass = watchedPass("ns/busy", log as never, async () => {
    // A handover in progress when the settle is due.
    await new Promise((r) => setTimeout(r, passEnds - Date.now()));
  });
  settleClientsLater(deps, "ns/busy", [{ ip: "10.0.0.1", credential: undefined }], {
    port: 6379,
  });
  await pass;
  const deadline = Date.now() + 2000;
  while (killedAt === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(killedAt !== undefined, "the replica's clients were settled");
  assert.ok(killedAt >= passEnds, `settled ${passEnds - killedAt} ms before the pass ended`);
});

Deno.test("settleClientsLater() still settles when a pass runs well past the settle time (it used to give up after 2 s)", async () => {
  let settled = false;
  const node = {
    disconnectClients: () => {
      settled = true;
      return Promise.resolve();
    },
    close: () => {},
  } as unknown as RedisNode;
  const log = { debug: () => {}, warn: () => {} };
  const deps = { connect: () => Promise.resolve(node), log: log as never };
  const passEnds = Date.now() + serviceSettleMs + 4000;
  const pass = watchedPass("ns/slow", log as never, async () => {
    await new Promise((r) => setTimeout(r, passEnds - Date.now()));
  });
  settleClientsLater(deps, "ns/slow", [{ ip: "10.0.0.1", credential: undefined }], {
    port: 6379,
  });
  await pass;
  const deadline = Date.now() + 2000;
  while (!settled && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(settled, "the replica's clients were settled after the pass");
});
