import { z } from "zod";
import { seconds, count, probeTimeoutMs } from "../settings.ts";

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
  /**
   * SCAN COUNT hint for processing markers, and the most SCAN calls per run (no KEYS on production).
   * 0 calls (the default) counts no markers: they are only shown in queue-depth's message, and each page
   * is one more command on Beacon's Redis every run.
   */
  scanCount: z.number().int().positive().default(1_000),
  maxScanCalls: z.number().int().nonnegative().default(0),
});
export type QueueSettings = z.infer<typeof QueueSettings>;
