/**
 * An application's writer with ioredis and its default connection and retry
 * settings: SET `<prefix>:<n>` to n, one at a time about every 2 ms, against
 * the address given (a Service name). Prints `ok <n> <ms>` for each
 * acknowledged write and `err <n> <ms> <message>` for each failed one, until
 * SIGTERM. The same protocol as the redis-py and go-redis writers.
 *
 *   deno run -A tests/clients/ioredis_writer.ts HOST PORT PREFIX [reconnect-on-readonly]
 *
 * With `reconnect-on-readonly`, the one setting that changes: `reconnectOnError`
 * reconnects and resends a command that got READONLY, as ioredis' documentation
 * suggests for failovers behind a fixed address. With `sentinel=NAME`, HOST:PORT
 * is a Sentinel and NAME the master name, set as ioredis' documentation shows
 * (`sentinels` and `name`, nothing else).
 * @module
 */
import { Redis } from "ioredis";

const [host = "localhost", port = "6379", prefix = "ioredis", setting] = Deno.args;
const client = setting?.startsWith("sentinel=")
  ? new Redis({
    sentinels: [{ host, port: Number(port) }],
    name: setting.slice("sentinel=".length),
  })
  : new Redis({
    host,
    port: Number(port),
    ...(setting === "reconnect-on-readonly"
      ? { reconnectOnError: (error: Error) => error.message.startsWith("READONLY") ? 2 : false }
      : {}),
  });
client.on("error", () => {}); // reported per command below
let running = true;
Deno.addSignalListener("SIGTERM", () => running = false);
const encoder = new TextEncoder();
const print = (line: string) => Deno.stdout.writeSync(encoder.encode(`${line}\n`));
for (let n = 1; running; n++) {
  try {
    await client.set(`${prefix}:${n}`, String(n));
    print(`ok ${n} ${Date.now()}`);
  } catch (error) {
    print(`err ${n} ${Date.now()} ${String((error as Error).message).replaceAll("\n", " ")}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 2));
}
client.disconnect();
