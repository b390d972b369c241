import { z } from "zod";
import { ProbeResult, worstStatus } from "../result.ts";
import { AlertState } from "../alerting/state.ts";
import { HistoryEntry, TIMELINE_SLOT_MS, TIMELINE_SLOTS, TimelineBucket } from "../status/history.ts";
import { Monitoring } from "../status/monitoring.ts";
import { DaySummary } from "../status/days.ts";
import { compactAlerts } from "../alerting/state.ts";
import { Published } from "./published.ts";
import { packCounters, unpackCounters } from "../slo/counters.ts";

/**
 * The tick's memory: everything one evaluation needs from the last, in ONE stored document (read with
 * one GET, written with one SET, gzipped by shared/store/codec.ts). Nothing here is re-read per view:
 * the status document is derived from it at write time.
 */

export const ProbeMemory = z.object({
  /** The scheduled slot (ISO) this probe last ran for: it is due again once a later slot has come. */
  lastSlot: z.string().optional(),
  latest: ProbeResult.optional(),
  /** What a stateful probe keeps between runs (previous counters, dead-letter head...). */
  state: z.unknown().optional(),
  /** Newest first, capped at HISTORY_KEEP. */
  history: z.array(HistoryEntry).default([]),
  /** Oldest first, the timeline slots not yet moved to the past (shared/tick/past.ts): the one filling, and a closed one until the next write. */
  timeline: z.array(TimelineBucket).default([]),
});
export type ProbeMemory = z.infer<typeof ProbeMemory>;

/**
 * One UTC day of tick durations, rolled up: count, sum, max and a fixed histogram (TICK_TIME_BOUNDS_MS),
 * so the record is the same size after a month as after a minute. Netlify bills a function's run time
 * (GB-hours), so the sum is the bill and the histogram says whether a few slow ticks make it.
 */
export const TickTimes = z.object({
  /** Days since the epoch (UTC). */
  day: z.number().int(),
  n: z.number().int().nonnegative(),
  sumMs: z.number().nonnegative(),
  maxMs: z.number().nonnegative(),
  /** Ticks per bucket: h[i] counts durations <= TICK_TIME_BOUNDS_MS[i] (and above the one before); the last bucket is everything longer. */
  h: z.array(z.number().int().nonnegative()),
});
export type TickTimes = z.infer<typeof TickTimes>;

/** Upper bounds of the duration histogram, ms; one more bucket holds everything longer. */
export const SentinelState = z.object({
  version: z.literal(2).default(2),
  probes: z.record(z.string(), ProbeMemory).default({}),
  /** Good/total SLI counters per source (shared/slo/counters.ts fields); stored packed (`storedState`), read either way. */
  counters: z.record(z.string(), z.union([
    z.record(z.string(), z.tuple([z.number().int(), z.array(z.number()), z.array(z.number())])).transform((packed) => unpackCounters(packed)),
    z.record(z.string(), z.number()),
  ])).default({}),
  /** Lifetime good/total events per SLO, from whichever source it used: the `_total` counters of /api/metrics. */
  sloTotals: z.record(z.string(), z.object({ good: z.number().nonnegative(), total: z.number().nonnegative() })).default({}),
  alerts: AlertState.prefault({}),
  monitoring: Monitoring.prefault({}),
  /** The tick's own run time, rolled up per UTC day (today and the day before): what `sentinel cost --measured` bills. */
  tickTimes: z.array(TickTimes).max(2).default([]),
  /** What the last tick published (shared/tick/publish.ts): with the rest, what a view builds the status document from. */
  published: Published.optional(),
  /** Today so far, per stage and check (shared/tick/past.ts): moved to the past days by the first tick of the next UTC day. */
  today: DaySummary.optional(),
});
export type SentinelState = z.infer<typeof SentinelState>;

export const TICK_TIME_BOUNDS_MS = [50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 10_000] as const;

/** Adds one tick's duration to its UTC day's roll-up, keeping that day and the one before. Pure. */
export function recordTickTime(days: readonly TickTimes[], durationMs: number, nowMs: number): TickTimes[] {
  const day = Math.floor(nowMs / 86_400_000);
  const ms = Math.max(0, Math.round(durationMs));
  const current = days.find((d) => d.day === day) ?? { day, n: 0, sumMs: 0, maxMs: 0, h: TICK_TIME_BOUNDS_MS.map(() => 0).concat(0) };
  const bucket = TICK_TIME_BOUNDS_MS.findIndex((b) => ms <= b);
  const h = [...current.h];
  h[bucket === -1 ? TICK_TIME_BOUNDS_MS.length : bucket]! += 1;
  const updated = { day, n: current.n + 1, sumMs: current.sumMs + ms, maxMs: Math.max(current.maxMs, ms), h };
  return [...days.filter((d) => d.day === day - 1), updated];
}

/** What `sentinel cost --measured` bills from: the last whole day when there is one, else today so far. */
export interface MeasuredTickTimes {
  day: string;
  whole: boolean;
  ticks: number;
  meanMs: number;
  maxMs: number;
  /** Upper bounds of the histogram buckets holding the median and the 95th percentile (Infinity: longer than the last bound). */
  p50AtMostMs: number;
  p95AtMostMs: number;
}

export function measuredTickTimes(days: readonly TickTimes[], nowMs: number): MeasuredTickTimes | undefined {
  const today = Math.floor(nowMs / 86_400_000);
  const pick = days.find((d) => d.day === today - 1 && d.n > 0) ?? days.find((d) => d.day === today && d.n > 0);
  if (!pick) return undefined;
  const quantile = (q: number) => {
    const rank = Math.ceil(q * pick.n);
    let seen = 0;
    for (let i = 0; i < pick.h.length; i++) {
      seen += pick.h[i]!;
      if (seen >= rank) return TICK_TIME_BOUNDS_MS[i] ?? Infinity;
    }
    return Infinity;
  };
  return {
    day: new Date(pick.day * 86_400_000).toISOString().slice(0, 10), whole: pick.day !== today,
    ticks: pick.n, meanMs: pick.sumMs / pick.n, maxMs: pick.maxMs, p50AtMostMs: quantile(0.5), p95AtMostMs: quantile(0.95),
  };
}

/**
 * The state as stored: what says nothing left out (idle alert records: `compactAlerts`) and the SLI
 * counters packed (`packCounters`). `SentinelState.parse` reads it back as it was. Pure.
 */
export function storedState(state: SentinelState): unknown {
  return { ...state, alerts: compactAlerts(state.alerts), counters: Object.fromEntries(Object.entries(state.counters).map(([k, v]) => [k, packCounters(v)])) };
}

export function emptySentinelState(): SentinelState {
  return SentinelState.parse({});
}

export const HISTORY_KEEP = 20;
export const GAPS_KEEP = 10;
/** Folds a new result into a probe's memory: latest, history line, timeline slot. Pure. */
export function remember(memory: ProbeMemory, result: ProbeResult, state: unknown, nowMs: number): ProbeMemory {
  const line: HistoryEntry = { t: result.startedAt, s: result.status, d: result.durationMs, f: result.checks.filter((c) => c.status !== "pass").map((c) => c.name) };
  const index = Math.floor(Date.parse(result.startedAt) / TIMELINE_SLOT_MS);
  const oldest = Math.floor(nowMs / TIMELINE_SLOT_MS) - TIMELINE_SLOTS + 1;
  const timeline = memory.timeline.filter((b) => b.i >= oldest && b.i !== index);
  const current = memory.timeline.find((b) => b.i === index);
  const bucket: TimelineBucket = current
    ? { i: index, s: worstStatus([current.s, result.status]), r: current.r + 1, n: current.n + (result.status === "pass" ? 0 : 1), t: current.t + result.durationMs, x: Math.max(current.x, result.durationMs) }
    : { i: index, s: result.status, r: 1, n: result.status === "pass" ? 0 : 1, t: result.durationMs, x: result.durationMs };
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
