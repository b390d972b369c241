import { z } from "zod";
import { CheckStatus, ProbeResult, worstStatus } from "../result.ts";
import { AlertState } from "../alerting/state.ts";

/**
 * The tick's memory: everything one evaluation needs from the last, in ONE stored document (read with
 * one GET, written with one SET, gzipped by shared/store/codec.ts). Nothing here is re-read per view:
 * the status document is derived from it at write time.
 */

/** One line of a probe's history: what the status page lists as recent runs. */
export const HistoryEntry = z.object({
  t: z.string(),
  s: CheckStatus,
  d: z.number(),
  /** Names of the checks that were not passing. */
  f: z.array(z.string()),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** A timeline slot pre-aggregated as runs arrive: index since the epoch, worst status, runs, not passing, durations. */
export const TimelineBucket = z.object({
  i: z.number().int(),
  s: CheckStatus,
  r: z.number().int().nonnegative(),
  n: z.number().int().nonnegative(),
  d: z.array(z.number()),
});
export type TimelineBucket = z.infer<typeof TimelineBucket>;

export const ProbeMemory = z.object({
  /** The scheduled slot (ISO) this probe last ran for: it is due again once a later slot has come. */
  lastSlot: z.string().optional(),
  latest: ProbeResult.optional(),
  /** What a stateful probe keeps between runs (previous counters, dead-letter head...). */
  state: z.unknown().optional(),
  /** Newest first, capped at HISTORY_KEEP. */
  history: z.array(HistoryEntry).default([]),
  /** Oldest first, the slots of the last 24 hours that saw runs. */
  timeline: z.array(TimelineBucket).default([]),
});
export type ProbeMemory = z.infer<typeof ProbeMemory>;

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
  /** Per channel (slack, pagerduty, alertmanager, webhook): what it delivered and how it last failed. */
  channels: z.record(z.string(), ChannelRecord).default({}),
});
export type Monitoring = z.infer<typeof Monitoring>;

export const SentinelState = z.object({
  version: z.literal(2).default(2),
  probes: z.record(z.string(), ProbeMemory).default({}),
  /** Good/total SLI counters per source (shared/slo/counters.ts fields). */
  counters: z.record(z.string(), z.record(z.string(), z.number())).default({}),
  /** Lifetime good/total events per SLO, from whichever source it used: the `_total` counters of /api/metrics. */
  sloTotals: z.record(z.string(), z.object({ good: z.number().nonnegative(), total: z.number().nonnegative() })).default({}),
  alerts: AlertState.prefault({}),
  monitoring: Monitoring.prefault({}),
});
export type SentinelState = z.infer<typeof SentinelState>;

export function emptySentinelState(): SentinelState {
  return SentinelState.parse({});
}

export const HISTORY_KEEP = 20;
export const GAPS_KEEP = 10;
/** The timeline covers a day in 96 slots of 15 minutes: fine enough to see an incident, small to send. */
export const TIMELINE_SLOT_MS = 15 * 60_000;
export const TIMELINE_SLOTS = 96;

/** Folds a new result into a probe's memory: latest, history line, timeline slot. Pure. */
export function remember(memory: ProbeMemory, result: ProbeResult, state: unknown, nowMs: number): ProbeMemory {
  const line: HistoryEntry = { t: result.startedAt, s: result.status, d: result.durationMs, f: result.checks.filter((c) => c.status !== "pass").map((c) => c.name) };
  const index = Math.floor(Date.parse(result.startedAt) / TIMELINE_SLOT_MS);
  const oldest = Math.floor(nowMs / TIMELINE_SLOT_MS) - TIMELINE_SLOTS + 1;
  const timeline = memory.timeline.filter((b) => b.i >= oldest && b.i !== index);
  const current = memory.timeline.find((b) => b.i === index);
  const bucket: TimelineBucket = current
    ? { i: index, s: worstStatus([current.s, result.status]), r: current.r + 1, n: current.n + (result.status === "pass" ? 0 : 1), d: [...current.d, result.durationMs] }
    : { i: index, s: result.status, r: 1, n: result.status === "pass" ? 0 : 1, d: [result.durationMs] };
  if (index >= oldest) timeline.push(bucket);
  timeline.sort((a, b) => a.i - b.i);
  return {
    ...memory,
    latest: result,
    ...(state === undefined ? {} : { state }),
    history: [line, ...memory.history].sort((a, b) => b.t.localeCompare(a.t)).slice(0, HISTORY_KEEP),
    timeline,
  };
}
