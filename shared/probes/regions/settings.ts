import { z } from "zod";
import { count, probeTimeoutMs, seconds } from "../settings.ts";

/** `probes.regions` settings. */
export const RegionsSettings = z.object({
  /** Whole-probe budget, inside Netlify's 30 s limit for scheduled functions. */
  timeoutMs: probeTimeoutMs(20_000),
  /** The sliding window a region is judged over, seconds (default 1 h). */
  windowSeconds: seconds(3_600),
  /** The window of the status page's region × model grid, seconds (default 24 h). */
  gridWindowSeconds: seconds(86_400),
  /** A region fails when fewer than this share of its finished executions in the window completed. */
  successThreshold: z.number().gt(0).max(1).default(0.9),
  /** Fewer finished executions than this in the window: the region is reported, never failed on its ratio. */
  minExecutions: count(5),
  /**
   * A job that asked for a region counts against it (no execution there) once it is this old, seconds:
   * a younger job may still be running. Default 10 min, a JobSpec's default timeout.
   */
  askedSettleSeconds: z.number().nonnegative().default(600),
  /** Regions expected even when no recent job asked for them, by the router's names (e.g. "us-east"). */
  expectedRegions: z.array(z.string().min(1)).default([]),
  /**
   * Most executions the grid reads, newest first (a backward range on executions(created_at)): bounds the
   * statement at any volume (about 100 ms for 10 000 rows; 24 h at 10^7 executions a month is 330 000).
   * At the cap the grid and the judging window cover less than their span, and every region check says so.
   */
  gridRowLimit: z.number().int().positive().default(10_000),
  /** Example execution or job ids kept per region and model. */
  exampleIds: z.number().int().positive().max(10).default(5),
  /** First run (no mark yet): executions this old are counted as SLI events. One probe cadence. */
  sliInitialWindowSeconds: seconds(300),
  /** Most `queued` jobs read to find jobs a runner restart lost. */
  queuedLimit: z.number().int().positive().default(50),
  /** Per-endpoint budget: the runner's /health and /metrics, the hybrid router's /health. */
  requestTimeoutMs: z.number().int().positive().default(5_000),
  /** Bodies larger than this are not read further. */
  maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
});
export type RegionsSettings = z.infer<typeof RegionsSettings>;
