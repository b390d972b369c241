import { errorText } from "../../error-text.ts";
import { check, type Check } from "../../result.ts";
import { QueueSettings } from "./settings.ts";
import { QUEUE } from "./definition.ts";
import type { Probe } from "../types.ts";
import { readQueue } from "./read.ts";
import { judgeContract, judgeDead, judgeDepth, judgeLatency, judgeRetry, QUEUE_CHECKS, sampleMain } from "./judge.ts";



/**
 * Beacon's Redis queue: depth, latency, message contract, overdue retries and dead-letter growth.
 * One pipelined request of 3 commands per run while every sampled key is shorter than the sample (a
 * second of up to 5 when one is not; shared/probes/queue/read.ts); stateful, so the
 * runner reads the previous dead-letter observation first and writes the new one with the result.
 */
export const queueProbe: Probe<QueueSettings> & typeof QUEUE = {
  ...QUEUE,
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

/** Re-exported for the tests, which import a probe and its settings together. */
export { QueueSettings } from "./settings.ts";
