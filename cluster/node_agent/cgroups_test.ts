import assert from "node:assert/strict";
import { ContainerCgroup, containerLimits } from "./cgroups.ts";

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
