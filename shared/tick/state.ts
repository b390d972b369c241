import { z } from "zod";
import { ProbeResult, worstStatus } from "../result.ts";
import { AlertState } from "../alerting/state.ts";
import { HistoryEntry, TIMELINE_SLOT_MS, TIMELINE_SLOTS, TimelineBucket } from "../status/history.ts";
import { Monitoring } from "../status/monitoring.ts";

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
  /** Oldest first, the slots of the last 24 hours that saw runs. */
  timeline: z.array(TimelineBucket).default([]),
});
export type ProbeMemory = z.infer<typeof ProbeMemory>;

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
