import assert from "node:assert/strict";
import {
  controlFrame,
  dataFrame,
  decodeHeaderPairs,
  encodeHeaderPairs,
  flagFin,
  frameType,
  parseSynStream,
  SpdyFrameReader,
} from "./spdy_frames.ts";
import { SpdyHeaderCodec } from "./spdy_headers.ts";

Deno.test("SpdyFrameReader joins frames split anywhere and splits frames sent together", () => {
  const ping = controlFrame(frameType.ping, 0, new Uint8Array([0, 0, 0, 1]));
  const data = dataFrame(3, flagFin, new TextEncoder().encode("PING\r\n"));
  const wire = new Uint8Array([...ping, ...data]);
  const reader = new SpdyFrameReader();
  const frames = [...reader.push(wire.subarray(0, 5)), ...reader.push(wire.subarray(5, 13))];
  frames.push(...reader.push(wire.subarray(13)));
  assert.deepEqual(frames, [
    { kind: "control", type: frameType.ping, flags: 0, payload: new Uint8Array([0, 0, 0, 1]) },
    { kind: "data", streamId: 3, flags: flagFin, data: new TextEncoder().encode("PING\r\n") },
  ]);
  // The version and control bit are on the wire as SPDY/3 has them.
  assert.deepEqual([...ping.subarray(0, 4)], [0x80, 0x03, 0x00, 0x06]);
});

Deno.test("header blocks survive compression with the SPDY dictionary across several frames", async () => {
  const deflate = new SpdyHeaderCodec("deflate");
  const inflate = new SpdyHeaderCodec("inflate");
  try {
    for (
      const headers of [
        { streamtype: "error", port: "6379", requestid: "0" },
        { streamtype: "data", port: "6379", requestid: "0" },
      ]
    ) {
      const compressed = await deflate.transform(encodeHeaderPairs(headers));
      // A SYN_STREAM as spdystream writes it: stream id, associated id, priority, slot.
      const payload = new Uint8Array([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...compressed]);
      const { streamId, headerBlock } = parseSynStream(payload);
      assert.equal(streamId, 1);
      assert.deepEqual(decodeHeaderPairs(await inflate.transform(headerBlock)), headers);
    }
  } finally {
    deflate.close();
    inflate.close();
  }
});
