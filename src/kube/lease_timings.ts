/**
 * How long a Lease lasts, how long a leader keeps trying to renew it, and how
 * often candidates try. Pure.
 *
 * Shorter than client-go's 15/10/2 s by default: when a node dies with the
 * leading operator and a Redis master on it, the other replica can act only
 * once the Lease has expired, so the lease duration is that failover's floor.
 * A leader that cannot renew for the renew deadline stops acting (it never
 * overlaps with the next leader, who waits the full lease duration); an API
 * server stalled longer than that costs one change of leader, not a failover.
 *
 * @module
 */

/** The timings of leader election, in ms. */
export interface LeaseTimings {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  /** How often the leader renews and candidates try to acquire. */
  readonly retryPeriodMs: number;
}

/** The operator's defaults. */
export const defaultLeaseTimings: LeaseTimings = {
  leaseDurationMs: 8_000,
  renewDeadlineMs: 5_000,
  retryPeriodMs: 1_000,
};

/**
 * Timings from flag values in seconds (each optional); a string says why they
 * are refused: the renew deadline must be shorter than the lease, and the retry
 * period shorter than the renew deadline, or two leaders could overlap.
 */
export function parseLeaseTimings(
  seconds: { leaseDuration?: string; renewDeadline?: string; retryPeriod?: string },
): LeaseTimings | string {
  const read = (value: string | undefined, fallbackMs: number, flag: string) => {
    if (value === undefined) return fallbackMs;
    const parsed = Number(value);
    return Number.isFinite(parsed) && parsed > 0 ? Math.round(parsed * 1000) : `${flag}: ${value}`;
  };
  const leaseDurationMs = read(
    seconds.leaseDuration,
    defaultLeaseTimings.leaseDurationMs,
    "--lease-duration",
  );
  const renewDeadlineMs = read(
    seconds.renewDeadline,
    defaultLeaseTimings.renewDeadlineMs,
    "--renew-deadline",
  );
  const retryPeriodMs = read(
    seconds.retryPeriod,
    defaultLeaseTimings.retryPeriodMs,
    "--retry-period",
  );
  for (const value of [leaseDurationMs, renewDeadlineMs, retryPeriodMs]) {
    if (typeof value === "string") return `not a positive number of seconds: ${value}`;
  }
  const [lease, renew, retry] = [leaseDurationMs, renewDeadlineMs, retryPeriodMs] as number[];
  if (renew! >= lease!) return "--renew-deadline must be shorter than --lease-duration";
  if (retry! >= renew!) return "--retry-period must be shorter than --renew-deadline";
  return { leaseDurationMs: lease!, renewDeadlineMs: renew!, retryPeriodMs: retry! };
}
