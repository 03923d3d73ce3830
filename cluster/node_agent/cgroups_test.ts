import assert from "node:assert/strict";
import { ContainerCgroup, containerLimits, removeCgroups } from "./cgroups.ts";

Deno.test("containerLimits() reads limits as a kubelet does", () => {
  assert.deepEqual(
    containerLimits({ name: "r", resources: { limits: { memory: "64Mi", cpu: "500m" } } }),
    { memoryBytes: 67108864, cpuQuotaUs: 50000, cpuShares: 512 },
  );
  assert.deepEqual(
    containerLimits({
      name: "r",
      resources: { requests: { cpu: "100m", memory: "10Mi" }, limits: { memory: "1G" } },
    }),
    { memoryBytes: 1e9, cpuShares: 102 },
  );
  assert.deepEqual(containerLimits({ name: "r" }), {});
  assert.deepEqual(
    containerLimits({ name: "r", resources: { limits: { cpu: "1m" } } }),
    { cpuQuotaUs: 1000, cpuShares: 2 },
    "the smallest quota and shares a kubelet sets",
  );
});

Deno.test("a process over its memory limit is OOM-killed, and the cgroup says so", async () => {
  const cgroup = await ContainerCgroup.create(`rop-unit-test.oom-${Date.now()}`, {
    memoryBytes: 32 * 2 ** 20,
    cpuQuotaUs: 50_000,
  });
  assert.ok(cgroup, "this machine has the cgroup v1 memory and cpu controllers");
  try {
    const join = cgroup.dirs.map((d) => `echo $$ > ${d}/cgroup.procs`).join("; ");
    const grow = "bytearray(256 * 1024 * 1024)";
    const status = await new Deno.Command("sh", {
      args: ["-c", `${join}; exec python3 -c '${grow}'`],
      stdout: "null",
      stderr: "null",
    }).output();
    assert.equal(status.signal, "SIGKILL");
    assert.equal(await cgroup.oomKilled(), true);
  } finally {
    await cgroup.remove();
  }
  for (const dir of cgroup.dirs) {
    await assert.rejects(Deno.stat(dir), Deno.errors.NotFound, "removed");
  }
});

Deno.test("a process within its limit is not reported OOM-killed", async () => {
  const cgroup = await ContainerCgroup.create(`rop-unit-test.ok-${Date.now()}`, {
    memoryBytes: 64 * 2 ** 20,
  });
  assert.ok(cgroup);
  try {
    const status = await new Deno.Command("sh", {
      args: ["-c", `echo $$ > ${cgroup.dirs[0]}/cgroup.procs; exec true`],
    }).output();
    assert.equal(status.code, 0);
    assert.equal(await cgroup.oomKilled(), false);
  } finally {
    await cgroup.remove();
  }
});

Deno.test("under contention a container's CPU request outweighs best-effort containers, as on a kubelet", async () => {
  const prefix = `rop-unit-test.qos-${Date.now()}-`;
  const pods = { name: `${prefix}kubepods`, cpuShares: 2048 };
  const requested = await ContainerCgroup.create(`${prefix}requested`, { cpuShares: 51 }, pods);
  const bestEffort = await Promise.all(
    [1, 2, 3].map((i) => ContainerCgroup.create(`${prefix}besteffort-${i}`, {}, pods)),
  );
  assert.ok(requested && bestEffort.every((c) => c), "every container gets a cpu cgroup");
  // Four busy loops on one CPU: only the weights decide who runs.
  const spin = (cgroup: ContainerCgroup) =>
    new Deno.Command("sh", {
      args: [
        "-c",
        `echo $$ > ${cgroup.dirs[0]}/cgroup.procs; exec taskset -c 0 sh -c 'while :; do :; done'`,
      ],
    }).spawn();
  const children = [requested, ...bestEffort].map((c) => spin(c!));
  const cpuTicks = async (pid: number) => {
    const fields = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1]!.split(" ");
    return Number(fields[11]) + Number(fields[12]);
  };
  try {
    await new Promise((r) => setTimeout(r, 300));
    const before = await Promise.all(children.map((c) => cpuTicks(c.pid)));
    await new Promise((r) => setTimeout(r, 1500));
    const after = await Promise.all(children.map((c) => cpuTicks(c.pid)));
    const used = after.map((t, i) => t - before[i]!);
    const total = used.reduce((a, b) => a + b, 0);
    assert.ok(total > 0, "the loops ran");
    assert.ok(
      used[0]! / total > 0.8,
      `the requested container got ${used[0]} of ${total} ticks (best-effort: ${used.slice(1)})`,
    );
  } finally {
    for (const child of children) child.kill("SIGKILL");
    await Promise.all(children.map((c) => c.status));
    for (const cgroup of [requested, ...bestEffort]) await cgroup?.remove();
    await removeCgroups(prefix);
  }
});
