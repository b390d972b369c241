import { z } from "zod";
import { probeTimeoutMs } from "../settings.ts";

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
  /** An answer slower than this is degraded (warn). */
  latencyWarnMs: z.number().int().positive().default(1_000),
  /** Bodies larger than this are not read further and fail the check. */
  maxBodyBytes: z.number().int().positive().default(256 * 1024),
});
export type HealthSettings = z.infer<typeof HealthSettings>;
