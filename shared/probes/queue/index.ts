import { z } from "zod";
import { errorText } from "../../error-text.ts";
import { seconds, count, probeTimeoutMs } from "../settings.ts";
import { check, type Check } from "../../result.ts";
import type { Probe } from "../types.ts";
import { readQueue } from "./read.ts";
import { judgeContract, judgeDead, judgeDepth, judgeLatency, judgeRetry, QUEUE_CHECKS, sampleMain } from "./judge.ts";


/** `probes.queue` settings. */
export const QueueSettings = z.object({
  /** Whole-probe budget, inside Netlify's 30 s limit for scheduled functions. */
  timeoutMs: probeTimeoutMs(20_000),
  /** Waiting messages in the main list at which the queue warns / fails. */
  depthWarnCount: count(100),
  depthFailCount: count(1_000),
  /** Age of the oldest waiting message at which the queue warns / fails (the worker polls every 1-5 s). */
  latencyWarnSeconds: seconds(60),
  latencyFailSeconds: seconds(300),
  /** New dead-letter messages tolerated between two runs. */
  newDeadMaxCount: count(0),
  /** A retry entry this long past its retry time means nothing drains the retry set. */
  retryOverdueSeconds: seconds(120),
  /** Messages read from each end of the main list, from the retry set and from the dead list. */
  sampleSize: z.number().int().positive().max(500).default(50),
  /** SCAN COUNT hint for processing markers, and the most SCAN calls per run (no KEYS on production). */
  scanCount: z.number().int().positive().default(1_000),
  maxScanCalls: z.number().int().positive().default(5),
});
export type QueueSettings = z.infer<typeof QueueSettings>;

/**
 * Beacon's Redis queue: depth, latency, message contract, overdue retries and dead-letter growth.
 * One pipelined request of 9 commands per run (plus a request per further SCAN page); stateful, so the
 * runner reads the previous dead-letter observation first and writes the new one with the result.
 */
export const queueProbe: Probe<QueueSettings> = {
  id: "queue",
  title: "Redis job queue",
  stage: "queue",
  schedule: "* * * * *",
  settings: QueueSettings,
  stateful: true,
  async run(ctx) {
    const { beaconRedis, now } = ctx.deps;
    const s = ctx.settings;
    const where = ctx.targets.redisLabel ?? "redis";
    if (!beaconRedis) return { checks: blind(where, "not measured: BEACON_REDIS_REST_URL is not set") };
    const nowMs = now().getTime();
    let snap;
    try {
      snap = await readQueue(beaconRedis, ctx.beacon.queue.name, {
        sampleSize: s.sampleSize, overdueBeforeSeconds: Math.floor(nowMs / 1000 - s.retryOverdueSeconds),
        scanCount: s.scanCount, maxScanCalls: s.maxScanCalls,
      });
    } catch (error) {
      // No state is returned, so the previous dead-letter observation survives a blind run.
      return { checks: blind(where, `could not measure: ${reason(error)}`) };
    }
    const main = sampleMain(snap);
    const dead = judgeDead(snap, ctx.previousState, s);
    return {
      checks: [judgeDepth(snap, s), judgeLatency(snap, main, nowMs, s), judgeContract(snap, main), judgeRetry(snap, nowMs, s), dead.check],
      state: dead.state,
    };
  },
};

function blind(where: string, message: string): Check[] {
  return QUEUE_CHECKS.map((name) => check({ name, status: "error", observed: null, threshold: null, message: `${where}: ${message}`, evidence: [where] }));
}

/** The client's message, plus the underlying cause when there is one ("fetch failed" says little). */
function reason(error: unknown): string {
  return errorText(error);
}
