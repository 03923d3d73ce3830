import assert from "node:assert/strict";
import type { Redis } from "../api/redis.ts";
import { parseReplicationInfo } from "../redis/info.ts";
import type { InstanceObservation } from "./replication.ts";
import {
  pendingSwitchover,
  switchoverAnnotation,
  switchoverRefusal,
  switchoverRequest,
  switchoverServed,
} from "./switchover.ts";

const redis = (annotation: string | undefined, epoch: number, master = "app-0"): Redis => ({
  apiVersion: "redis-operator.dev/v1alpha1",
  kind: "Redis",
  metadata: {
    name: "app",
    ...(annotation === undefined ? {} : { annotations: { [switchoverAnnotation]: annotation } }),
  },
  status: { epoch, master },
});

Deno.test("a switchover request by epoch applies to that epoch only", () => {
  assert.deepEqual(pendingSwitchover(redis("4", 4)), {});
  // Served: the handover moved the epoch on, so the same annotation asks nothing more.
  assert.equal(pendingSwitchover(redis("4", 5)), undefined);
  assert.equal(pendingSwitchover(redis(undefined, 4)), undefined);
  assert.deepEqual(switchoverRequest(redis("4", 4)), { kind: "best" });
});

Deno.test("a switchover request by pod lasts until that pod is the master", () => {
  assert.deepEqual(switchoverRequest(redis("app-2", 4)), { kind: "to", pod: "app-2" });
  assert.deepEqual(pendingSwitchover(redis("app-2", 4)), { to: "app-2" });
  assert.equal(switchoverServed(redis("app-2", 4), "app-0"), false);
  // Done: nothing more is asked, and the annotation may go.
  assert.equal(pendingSwitchover(redis("app-2", 5, "app-2")), undefined);
  assert.equal(switchoverServed(redis("app-2", 5, "app-2"), "app-2"), true);
});

const observe = (pod: string, ordinal: number, info: string): InstanceObservation => ({
  pod,
  ordinal,
  ip: `10.0.0.${ordinal}`,
  ready: true,
  info: parseReplicationInfo(info),
});

Deno.test("switchoverRefusal() says why the pod asked for cannot take over", () => {
  const master = observe("app-0", 0, "role:master\n");
  const replica = (pod: string, ordinal: number, extra = "") =>
    observe(
      pod,
      ordinal,
      `role:slave\nmaster_host:10.0.0.0\nmaster_link_status:up\nmaster_sync_in_progress:0\nslave_priority:100\n${extra}`,
    );
  const all = [master, replica("app-1", 1), replica("app-2", 2, "master_link_status:down\n")];
  assert.equal(switchoverRefusal(all, "app-0", "app-1"), undefined);
  assert.equal(switchoverRefusal(all, "app-0", "app-0"), undefined, "already the master");
  assert.match(switchoverRefusal(all, "app-0", "app-9")!, /no pod app-9/);
  assert.match(switchoverRefusal(all, "app-0", "app-2")!, /behind/);
  const stranger = observe("app-3", 3, "role:slave\nmaster_host:10.9.9.9\nmaster_link_status:up\n");
  assert.match(switchoverRefusal([...all, stranger], "app-0", "app-3")!, /not a replica/);
  assert.match(
    switchoverRefusal([master, replica("app-1", 1, "slave_priority:0\n")], "app-0", "app-1")!,
    /priority 0/,
  );
  assert.match(switchoverRefusal(all, "app-0", "app-1", 1)!, /scale-down/);
});
