import assert from "node:assert/strict";

const helper = new URL("./pty_exec.py", import.meta.url).pathname;

/** One input frame for the helper: a type byte, a 4-byte big-endian length, the payload. */
function inputFrame(kind: number, payload: Uint8Array): Uint8Array {
  const framed = new Uint8Array(5 + payload.length);
  framed[0] = kind;
  new DataView(framed.buffer).setUint32(1, payload.length);
  framed.set(payload, 5);
  return framed;
}

/** The helper running `sh -c script`, its input piped and its output collected. */
function helperRunning(script: string): Deno.ChildProcess {
  return new Deno.Command("python3", {
    args: [helper, "sh", "-c", script],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
}

Deno.test("pty helper: a command that asks for its size at once sees the size sent after start", async () => {
  const child = helperRunning("stty size");
  const input = child.stdin.getWriter();
  // kubectl's first resize arrives after the streams opened, never before the process starts.
  await new Promise((r) => setTimeout(r, 200));
  await input.write(
    inputFrame(1, new TextEncoder().encode(JSON.stringify({ Width: 101, Height: 31 }))),
  );
  const { code, stdout } = await Promise.all([child.output(), input.close().catch(() => {})])
    .then(([out]) => out);
  assert.equal(code, 0);
  assert.match(new TextDecoder().decode(stdout), /^31 101\r?\n/);
});

Deno.test("pty helper: without a size it starts after a bounded wait; input and exit code pass", async () => {
  const child = helperRunning("read line; echo got $line; exit 3");
  const input = child.stdin.getWriter();
  await input.write(inputFrame(0, new TextEncoder().encode("hello\n")));
  const { code, stdout } = await child.output();
  assert.equal(code, 3);
  assert.match(new TextDecoder().decode(stdout), /got hello/);
  await input.close().catch(() => {});
});
