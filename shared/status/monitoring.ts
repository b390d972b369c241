import { z } from "zod";

/**
 * The sentinel watching itself: counted by the tick in its memory, shown by the status document's
 * `monitoring` section and the metrics. Defined here, by the reader, so the tick writes what the page
 * knows how to show.
 */

/** A stretch without a stored evaluation, noticed by the first tick after it. */
export const Gap = z.object({ from: z.string(), to: z.string(), missedRuns: z.number().int().nonnegative() });

/** One channel's delivery record (counts are per notification). */
export const ChannelRecord = z.object({
  delivered: z.number().int().nonnegative().default(0),
  /** Sends that failed and were kept for the next tick. */
  failed: z.number().int().nonnegative().default(0),
  /** Deliveries that may have happened and were not repeated. */
  unknown: z.number().int().nonnegative().default(0),
  lastDeliveredAt: z.string().optional(),
  lastError: z.string().optional(),
  lastErrorAt: z.string().optional(),
});
export type ChannelRecord = z.infer<typeof ChannelRecord>;

/** How the sentinel itself is doing: what the status page's "monitoring" section shows. */
export const Monitoring = z.object({
  lastTickAt: z.string().optional(),
  ticks: z.number().int().nonnegative().default(0),
  /** Probe runs whose results were never stored (a tick that could not reach the store, or did not run). */
  lostResults: z.number().int().nonnegative().default(0),
  /** The most recent gaps, newest last (capped). */
  gaps: z.array(Gap).default([]),
  /** Notifications whose send failed at least once (each retried by later ticks). */
  failedSends: z.number().int().nonnegative().default(0),
  /** Notifications whose delivery is unknown (Slack timed out after the request went out; not repeated). */
  unknownDeliveries: z.number().int().nonnegative().default(0),
  /** Notifications folded into a summary because too many were pending. */
  collapsedNotifications: z.number().int().nonnegative().default(0),
  lastSendError: z.string().optional(),
  /** The last time the tick's memory was lost (missing or unreadable) and rebuilt from the ledger, and the alerts it rebuilt. */
  memoryLost: z.object({ at: z.string(), reason: z.enum(["missing", "unreadable", "stale"]), from: z.enum(["ledger", "durable copy"]), alerts: z.array(z.string()).max(50) }).optional(),
  /** The write sequence this state was written under (the store's counter, taken with the lock): the next tick expects its own number less one. */
  seq: z.number().int().nonnegative().optional(),
  /** The last time the stored state was behind the write sequence: a write the store acknowledged and did not keep (or a tick that took the lock and could not write). */
  staleState: z.object({ at: z.string(), storedSeq: z.number().int().nonnegative(), expectedSeq: z.number().int().nonnegative() }).optional(),
  /** Per channel (slack, pagerduty, alertmanager, webhook): what it delivered and how it last failed. */
  channels: z.record(z.string(), ChannelRecord).default({}),
});
export type Monitoring = z.infer<typeof Monitoring>;
