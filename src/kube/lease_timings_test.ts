import assert from "node:assert/strict";
import { defaultLeaseTimings, parseLeaseTimings } from "./lease_timings.ts";

Deno.test("parseLeaseTimings(): defaults, seconds to ms, and orderings that could overlap two leaders refused", () => {
  assert.deepEqual(parseLeaseTimings({}), defaultLeaseTimings);
  assert.deepEqual(
    parseLeaseTimings({ leaseDuration: "15", renewDeadline: "10", retryPeriod: "2" }),
    { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
  );
  assert.deepEqual(parseLeaseTimings({ retryPeriod: "0.5" }), {
    ...defaultLeaseTimings,
    retryPeriodMs: 500,
  });
  assert.match(parseLeaseTimings({ leaseDuration: "x" }) as string, /--lease-duration: x/);
  assert.match(parseLeaseTimings({ renewDeadline: "-1" }) as string, /--renew-deadline/);
  assert.match(
    parseLeaseTimings({ leaseDuration: "5", renewDeadline: "5" }) as string,
    /shorter than --lease-duration/,
  );
  assert.match(
    parseLeaseTimings({ renewDeadline: "2", retryPeriod: "2" }) as string,
    /shorter than --renew-deadline/,
  );
});
