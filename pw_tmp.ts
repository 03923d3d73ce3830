import { connectRedis } from "/work/main/src/redis/client.ts";
for (const pw of ["wrong", undefined, "secret"]) {
  try { const n = await connectRedis({ host: "127.0.0.1", port: 17101, password: pw }); console.log(pw, "connected", (await n.infoReplication()).slice(0, 20)); n.close(); }
  catch (e) { console.log(pw, "error:", (e as Error).message, "| cause:", String((e as Error).cause)); }
}
