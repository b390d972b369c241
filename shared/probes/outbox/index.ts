import { errorText } from "../../error-text.ts";
import { check, type Check } from "../../result.ts";
import { OutboxSettings } from "./settings.ts";
import { OUTBOX } from "./definition.ts";
import { coveringGapSeconds } from "../settings.ts";
import type { Probe, ProbeContext } from "../types.ts";
import { queryOutbox, queryStuck } from "./queries.ts";
import { judgeBacklog, judgeClock, judgeEnvelopes, judgeStuck, OUTBOX_CHECKS, STUCK_CHECKS } from "./judge.ts";
import { judgeFinishedJobs, OutboxState, queryFinishedJobs } from "./slis.ts";
import { CANARY_ID_PREFIX } from "../canary/definition.ts";
import { oneStatement } from "../../sql.ts";


type Ctx = ProbeContext<OutboxSettings>;

/**
 * Beacon's Postgres side of the pipeline: the outbox backlog and its envelope contract, every stuck
 * job state and clock skew, and the job SLIs of every finished job (see slis.ts). Three queries sent as
 * one SQL statement per run (shared/sql.ts oneStatement); if it fails, every check is `error`.
 * Stateful: the SLIs' high-water mark rides in the probe state, so no job is counted twice.
 */
export const outboxProbe: Probe<OutboxSettings> & typeof OUTBOX = {
  ...OUTBOX,
  async run(ctx) {
    const { sql } = ctx.deps;
    if (!sql) return { checks: blind(ctx, [...OUTBOX_CHECKS, ...STUCK_CHECKS, "jobs-finished"], "not measured: BEACON_DATABASE_URL is not set") };
    const s = ctx.settings;
    const { tables } = ctx.beacon;
    const previous = OutboxState.safeParse(ctx.previousState ?? {});
    const mark = previous.success ? previous.data.jobsMark : undefined;
    const countedFailed = previous.success ? (previous.data.countedFailed ?? []) : [];
    // One statement on Beacon's database, not three: each query becomes a column of one SELECT.
    const [outbox, stuck, finished] = await oneStatement(sql, (one) => Promise.allSettled([
      queryOutbox(one, tables, { unpublishedSample: s.unpublishedSampleSize, recentSample: s.recentSampleSize, countCap: s.countCap }),
      queryStuck(one, tables, {
        createdSeconds: s.createdMaxSeconds, queuedSeconds: s.queuedMaxSeconds, processingSeconds: s.processingMaxSeconds,
        runningSeconds: s.runningMaxSeconds, executionRunningSeconds: s.executionRunningMaxSeconds, limit: s.stuckSampleLimit,
        finalizingSeconds: s.finalizingMaxSeconds, futureToleranceSeconds: s.clockSkewToleranceSeconds,
        outboxScanLimit: s.outboxScanLimit, startupRecoverySeconds: ctx.beacon.runner.startupRecoverySeconds,
      }),
      queryFinishedJobs(one, tables, {
        mark, initialWindowSeconds: coveringGapSeconds(s.sliInitialWindowSeconds, ctx.beacon), maxWindowSeconds: coveringGapSeconds(s.sliMaxWindowSeconds, ctx.beacon, 2),
        settleSeconds: s.sliSettleSeconds, excludePrefix: CANARY_ID_PREFIX, limit: s.sliJobLimit,
      }),
    ]));
    const checks: Check[] = [];
    if (outbox.status === "fulfilled") checks.push(...judgeBacklog(outbox.value, s), judgeEnvelopes(outbox.value));
    else checks.push(...blind(ctx, OUTBOX_CHECKS, `could not measure: ${reason(outbox.reason)}`));
    if (stuck.status === "fulfilled") checks.push(...judgeStuck(stuck.value, s), judgeClock(stuck.value, s, ctx.deps.now()));
    else checks.push(...blind(ctx, STUCK_CHECKS, `could not measure: ${reason(stuck.reason)}`));
    if (finished.status === "rejected") {
      // No events and the old mark kept: the next run counts these jobs.
      checks.push(...blind(ctx, ["jobs-finished"], `could not measure: ${reason(finished.reason)}`));
      return { checks, ...(mark ? { state: { jobsMark: mark, countedFailed } } : {}) };
    }
    const slis = judgeFinishedJobs(finished.value, mark, { startWithinSeconds: s.startWithinSeconds, limit: s.sliJobLimit, failedMemory: s.sliFailedMemory }, countedFailed);
    checks.push(slis.check);
    return { checks, events: slis.events, state: { jobsMark: slis.mark, countedFailed: slis.countedFailed } };
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

/** Re-exported for the tests, which import a probe and its settings together. */
export { OutboxSettings } from "./settings.ts";
