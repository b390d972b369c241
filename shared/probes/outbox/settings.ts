import { z } from "zod";
import { seconds, count, probeTimeoutMs } from "../settings.ts";

/** `probes.outbox` settings. Stuck-state defaults are Beacon's own (STUCK_JOBS_ANALYSIS.md). */
export const OutboxSettings = z.object({
  /** Whole-probe budget, inside Netlify's 30 s limit for scheduled functions. */
  timeoutMs: probeTimeoutMs(20_000),
  /** Unpublished rows at which the backlog warns / fails. The publisher takes 100 per pass. */
  unpublishedWarnCount: count(100),
  unpublishedFailCount: count(1_000),
  /** Age of the oldest unpublished row at which the outbox warns / fails (the publisher loops every 500 ms). */
  oldestUnpublishedWarnSeconds: seconds(60),
  oldestUnpublishedFailSeconds: seconds(300),
  /** A job in `created` longer than this is stuck; it is classified by cause. */
  createdMaxSeconds: seconds(300),
  /**
   * `queued` is the portal's cross-region path: the job stays `queued` for its whole in-process run (up
   * to its 15-minute context, `cross_region_handlers.go:231-242`), with no outbox row by design. Past
   * that, the run ended without a status. Default 16 min.
   */
  queuedMaxSeconds: seconds(960),
  processingMaxSeconds: seconds(600),
  /**
   * `finalizing` (strict completion barrier): nothing in Beacon moves a job on from it, so any job
   * there longer than a job's own run is stuck. Default 10 min, the JobSpec's default timeout.
   */
  finalizingMaxSeconds: seconds(600),
  runningMaxSeconds: seconds(1_800),
  /** An execution row in `running` longer than this is stuck. */
  executionRunningMaxSeconds: seconds(900),
  /**
   * Clock skew: rows dated more than this far ahead of Beacon's database clock, or a database clock this
   * far from the sentinel's, are reported. Ages of such rows are negative, so no other check sees them.
   */
  clockSkewToleranceSeconds: seconds(60),
  /** Unpublished rows whose payloads are contract-checked: the publisher's own batch. */
  unpublishedSampleSize: count(100),
  /** Most recently published rows whose payloads are contract-checked. */
  recentSampleSize: count(20),
  /** Most rows read per stuck state; the count reported is capped here. */
  stuckSampleLimit: z.number().int().positive().default(100),
  /** Most outbox rows read (newest first) to find the rows of stuck `created` jobs. */
  outboxScanLimit: z.number().int().positive().default(50_000),
  /** The unpublished backlog is counted up to this many rows. */
  countCap: z.number().int().positive().default(10_000),
  /** Job SLIs (`outbox:jobs`, `outbox:start-latency`): a job is good when its first execution starts within this. */
  startWithinSeconds: seconds(120),
  /** First run (no high-water mark yet): jobs finished this long ago are counted. One probe cadence. */
  sliInitialWindowSeconds: seconds(120),
  /** The high-water mark never reaches back further than this; older finished jobs are not counted. */
  sliMaxWindowSeconds: seconds(3_600),
  /** Jobs updated within this margin of the database clock are left for the next run. */
  sliSettleSeconds: z.number().nonnegative().default(5),
  /**
   * Jobs counted as failed that are remembered (their ids, in the probe state), so that one the timeout
   * worker failed and that then completes is counted once. 1000 ids is about 7 KB of state.
   */
  sliFailedMemory: z.number().int().positive().max(10_000).default(1_000),
  /** Most finished jobs counted per run; the rest are counted by the next runs. */
  sliJobLimit: z.number().int().positive().default(2_000),
});
export type OutboxSettings = z.infer<typeof OutboxSettings>;
