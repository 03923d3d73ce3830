import assert from "node:assert/strict";
import type { KubeRequest, RestClient } from "../kube/client.ts";
import type { RedisNode } from "../redis/client.ts";
import { leadingOnlyNode, leadingOnlyWrites, NotLeadingError } from "./leading_guard.ts";

/** A RestClient that records what reached it. */
function recordingClient(sent: string[]): RestClient {
  return {
    request: <T>(request: KubeRequest) => {
      sent.push(`${request.method ?? "GET"} ${request.path}`);
      return Promise.resolve({} as T);
    },
    stream: (request) => {
      sent.push(`STREAM ${request.path}`);
      return Promise.resolve(new ReadableStream<Uint8Array>());
    },
  };
}

/** A RedisNode whose every method records its name (pure logic: no Redis here). */
function recordingNode(sent: string[]): RedisNode {
  return new Proxy({} as RedisNode, {
    get: (_, name) => (...args: unknown[]) => {
      sent.push(String(name));
      // A handover promotes its target through the target's own node.
      if (name === "handOver") return (args[0] as RedisNode).promote(1);
      return name === "close" ? undefined : Promise.resolve(name === "fencing" ? {} : "x");
    },
  });
}

Deno.test("leadingOnlyWrites(): reads and watches always pass; writes only while leading", async () => {
  const sent: string[] = [];
  let leads = true;
  const client = leadingOnlyWrites(recordingClient(sent), () => leads);
  await client.request({ method: "PATCH", path: "/a" });
  leads = false;
  await client.request({ path: "/b" });
  await client.stream({ path: "/c" });
  for (const method of ["POST", "PUT", "PATCH", "DELETE"] as const) {
    await assert.rejects(client.request({ method, path: "/d" }), NotLeadingError);
  }
  assert.deepEqual(sent, ["PATCH /a", "GET /b", "STREAM /c"]);
});

Deno.test("leadingOnlyNode(): reads always pass; no command that changes an instance leaves once the lead is gone", async () => {
  const sent: string[] = [];
  let leads = true;
  const node = leadingOnlyNode(recordingNode(sent), () => leads);
  await node.replicaOf("10.0.0.1", 6379);
  leads = false;
  await node.infoReplication();
  await node.fencing();
  node.close();
  const refused: Array<() => Promise<unknown>> = [
    () => node.replicaOf("10.0.0.1", 6379),
    () => node.promote(1),
    () => node.acceptPassword("p"),
    () => node.requireOnlyPassword("p"),
    () => node.useMasterPassword("p"),
    () => node.setUser(["u"]),
    () => node.deleteUsers(["u"]),
    () => node.useMasterUser("u", "p"),
    () => node.setFencing({ minReplicasToWrite: 1, minReplicasMaxLagSeconds: 10 }),
    () => node.setServeStaleData(true),
    () => node.reloadTls("/f"),
    () => node.disconnectClients(),
  ];
  for (const effect of refused) await assert.rejects(effect(), NotLeadingError);
  assert.deepEqual(sent, ["replicaOf", "infoReplication", "fencing", "close"]);
});

Deno.test("leadingOnlyNode(): a handover that began while leading cannot promote its target after the lead is gone", async () => {
  const sent: string[] = [];
  let leads = true;
  const from = leadingOnlyNode(recordingNode(sent), () => leads);
  const target = leadingOnlyNode(recordingNode(sent), () => leads);
  await from.handOver(target, 1000, 1);
  assert.deepEqual(sent, ["handOver", "promote"]);
  // The lead is lost between the fence and the promotion (the fake checks at the promotion).
  const late = leadingOnlyNode(
    new Proxy(recordingNode(sent), {
      get: (inner, name, receiver) =>
        name === "handOver"
          ? (t: RedisNode) => {
            leads = false;
            return t.promote(1);
          }
          : Reflect.get(inner, name, receiver),
    }),
    () => true,
  );
  await assert.rejects(late.handOver(target, 1000, 1), NotLeadingError);
  assert.deepEqual(sent, ["handOver", "promote"]);
});
