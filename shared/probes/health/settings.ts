import { z } from "zod";
import { probeTimeoutMs } from "../settings.ts";

/** The default of `redisEveryMinutes` (the cost model projects it from the definition). */
export const REDIS_EVERY_MINUTES = 10;

/** `probes.health` of SENTINEL_SETTINGS. */
export const HealthSettings = z.object({
  /** Whole-probe budget, well inside Netlify's 30 s limit for scheduled functions. */
  timeoutMs: probeTimeoutMs(20_000),
  /** Per-endpoint budget (runner /health, /health/ready, each extra URL); a slower answer is a failed check. */
  requestTimeoutMs: z.number().int().positive().default(5_000),
  /**
   * Budget of the `database` check, ms. Above the driver's connect timeout (beacon.database.connectTimeoutMs,
   * 10 s, which covers a Neon compute waking up) so the driver's own reason is reported when it has one.
   */
  databaseTimeoutMs: z.number().int().positive().default(12_000),
  /** Budget of the `redis` check (one PING through the Upstash REST API), ms. */
  redisTimeoutMs: z.number().int().positive().default(5_000),
  /**
   * The `redis` check (one PING on Beacon's queue Redis) runs in a scheduled tick on the minutes divisible
   * by this (UTC, from the epoch), in every manual run, and in any run whose runner-ready check does not pass (the runner's readiness fails when
   * its Redis is down, so the root cause is checked at once). 10: 4,320 PINGs a month instead of 43,200,
   * at the cost of seeing an unreachable Redis the runner is still ready with up to 10 minutes later per
   * observation. 1: every run.
   */
  redisEveryMinutes: z.number().int().positive().max(60).default(REDIS_EVERY_MINUTES),
  /**
   * The `database` check (the tick's database connection) runs in a scheduled tick on the minutes divisible
   * by this (UTC, from the epoch), in every manual run, and in any run whose runner-ready check does not
   * pass (the runner is not ready when its database is down). Unset: `beacon.database.everyMinutes`, else
   * every run (1). Each minute it runs keeps Beacon's Neon compute awake 5 more minutes; a database only
   * the sentinel cannot reach (credentials, network) is seen up to this many minutes later per observation.
   */
  databaseEveryMinutes: z.number().int().min(1).max(60).refine((n) => 60 % n === 0, "must divide 60").optional(),
  /** An answer slower than this is degraded (warn). */
  latencyWarnMs: z.number().int().positive().default(1_000),
  /** Bodies larger than this are not read further and fail the check. */
  maxBodyBytes: z.number().int().positive().default(256 * 1024),
});
export type HealthSettings = z.infer<typeof HealthSettings>;

/** Minutes between the `database` check's runs: its own setting, else Beacon's database cadence, else every run. */
export function databaseEveryMinutesOf(health: Pick<HealthSettings, "databaseEveryMinutes">, beacon: { database: { everyMinutes?: number | undefined } }): number {
  return health.databaseEveryMinutes ?? beacon.database.everyMinutes ?? 1;
}
