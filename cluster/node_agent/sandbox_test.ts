import assert from "node:assert/strict";
import { AddressAllocator, hostVethName, hostVethPattern } from "./sandbox.ts";

Deno.test("AddressAllocator hands out distinct pod addresses and does not reuse a released one at once", () => {
  const allocator = new AddressAllocator("198.18.1.1", 16);
  const first = allocator.allocate();
  const second = allocator.allocate();
  assert.equal(first, "198.18.1.1");
  assert.equal(second, "198.18.1.2");
  allocator.release(first);
  assert.equal(allocator.allocate(), "198.18.1.3");
});

Deno.test("AddressAllocator skips .0 and .255 addresses and wraps around to released ones", () => {
  const allocator = new AddressAllocator("198.18.255.253", 16);
  assert.equal(allocator.allocate(), "198.18.255.253");
  assert.equal(allocator.allocate(), "198.18.255.254");
  allocator.release("198.18.255.253");
  assert.equal(
    allocator.allocate(),
    "198.18.255.253",
    "wraps to the first address once the range is used up",
  );
});

Deno.test("AddressAllocator stays inside a node's /20 pod range", () => {
  // Node 1's range is 198.18.16.0/20: its last pod address is 198.18.31.254.
  const allocator = new AddressAllocator("198.18.31.253", 20);
  assert.equal(allocator.allocate(), "198.18.31.253");
  assert.equal(allocator.allocate(), "198.18.31.254");
  assert.throws(() => allocator.allocate(), /No pod address left/, "never 198.18.32.x, node 2's");
});

Deno.test("hostVethName() fits an interface name and is what removeLeftovers looks for", () => {
  const name = hostVethName("516d9a28-9724-4c3e-a1b2-0123456789ab");
  assert.equal(name, "v516d9a289724");
  assert.ok(name.length <= 15);
  assert.match(name, hostVethPattern);
  assert.doesNotMatch("veth0", hostVethPattern);
});

Deno.test("AddressAllocator with a state file goes on where an earlier one stopped", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/next-pod-address`;
    const before = new AddressAllocator("198.18.16.2", 20, file);
    assert.equal(before.allocate(), "198.18.16.2");
    assert.equal(before.allocate(), "198.18.16.3");
    const restarted = new AddressAllocator("198.18.16.2", 20, file);
    assert.equal(restarted.allocate(), "198.18.16.4", "not an address the last run handed out");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
