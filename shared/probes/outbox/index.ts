import { z } from "zod";
import { errorText } from "../../error-text.ts";
import { seconds, count, probeTimeoutMs } from "../settings.ts";
import { check, type Check } from "../../result.ts";
import type { Probe, ProbeContext } from "../types.ts";
import { queryOutbox, queryStuck } from "./queries.ts";
import { judgeBacklog, judgeClock, judgeEnvelopes, judgeStuck, OUTBOX_CHECKS, STUCK_CHECKS } from "./judge.ts";
import { judgeFinishedJobs, OutboxState, queryFinishedJobs } from "./slis.ts";
import { CANARY_ID_PREFIX } from "../canary/spec.ts";


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
  /** `queued` is only used by the cross-region path, which bypasses the outbox and never recovers. */
  queuedMaxSeconds: seconds(300),
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
  /** Most finished jobs counted per run; the rest are counted by the next runs. */
  sliJobLimit: z.number().int().positive().default(2_000),
});
export type OutboxSettings = z.infer<typeof OutboxSettings>;
type Ctx = ProbeContext<OutboxSettings>;

/**
 * Beacon's Postgres side of the pipeline: the outbox backlog and its envelope contract, every stuck
 * job state and clock skew, and the job SLIs of every finished job (see slis.ts). Three SQL statements
 * per run, issued concurrently; a statement that fails turns only its own checks into `error`.
 * Stateful: the SLIs' high-water mark rides in the probe state, so no job is counted twice.
 */
export const outboxProbe: Probe<OutboxSettings> = {
  id: "outbox",
  title: "Outbox and stuck jobs",
  stage: "outbox",
  schedule: "*/2 * * * *",
  settings: OutboxSettings,
  stateful: true,
  async run(ctx) {
    const { sql } = ctx.deps;
    if (!sql) return { checks: blind(ctx, [...OUTBOX_CHECKS, ...STUCK_CHECKS, "jobs-finished"], "not measured: BEACON_DATABASE_URL is not set") };
    const s = ctx.settings;
    const { tables } = ctx.beacon;
    const previous = OutboxState.safeParse(ctx.previousState ?? {});
    const mark = previous.success ? previous.data.jobsMark : undefined;
    const [outbox, stuck, finished] = await Promise.allSettled([
      queryOutbox(sql, tables, { unpublishedSample: s.unpublishedSampleSize, recentSample: s.recentSampleSize, countCap: s.countCap }),
      queryStuck(sql, tables, {
        createdSeconds: s.createdMaxSeconds, queuedSeconds: s.queuedMaxSeconds, processingSeconds: s.processingMaxSeconds,
        runningSeconds: s.runningMaxSeconds, executionRunningSeconds: s.executionRunningMaxSeconds, limit: s.stuckSampleLimit,
        finalizingSeconds: s.finalizingMaxSeconds, futureToleranceSeconds: s.clockSkewToleranceSeconds,
        outboxScanLimit: s.outboxScanLimit,
      }),
      queryFinishedJobs(sql, tables, {
        mark, initialWindowSeconds: s.sliInitialWindowSeconds, maxWindowSeconds: s.sliMaxWindowSeconds,
        settleSeconds: s.sliSettleSeconds, excludePrefix: CANARY_ID_PREFIX, limit: s.sliJobLimit,
      }),
    ]);
    const checks: Check[] = [];
    if (outbox.status === "fulfilled") checks.push(...judgeBacklog(outbox.value, s), judgeEnvelopes(outbox.value));
    else checks.push(...blind(ctx, OUTBOX_CHECKS, `could not measure: ${reason(outbox.reason)}`));
    if (stuck.status === "fulfilled") checks.push(...judgeStuck(stuck.value, s), judgeClock(stuck.value, s, ctx.deps.now()));
    else checks.push(...blind(ctx, STUCK_CHECKS, `could not measure: ${reason(stuck.reason)}`));
    if (finished.status === "rejected") {
      // No events and the old mark kept: the next run counts these jobs.
      checks.push(...blind(ctx, ["jobs-finished"], `could not measure: ${reason(finished.reason)}`));
      return { checks, ...(mark ? { state: { jobsMark: mark } } : {}) };
    }
    const slis = judgeFinishedJobs(finished.value, mark, { startWithinSeconds: s.startWithinSeconds, limit: s.sliJobLimit });
    checks.push(slis.check);
    return { checks, events: slis.events, state: { jobsMark: slis.mark } };
  },
};

/** The same check names as a measured run, each `error`: the SLOs see the probe is blind, not green. */
function blind(ctx: Ctx, names: readonly string[], message: string): Check[] {
  const label = ctx.targets.databaseLabel ?? "database";
  return names.map((name) => check({ name, status: "error", observed: null, threshold: null, message: `${label}: ${message}`, evidence: [label] }));
}

/** The driver's message, plus the underlying cause when there is one ("fetch failed" says little). */
function reason(error: unknown): string {
  return errorText(error);
}
