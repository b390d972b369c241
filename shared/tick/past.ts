import { z } from "zod";
import type { ProbeResult } from "../result.ts";
import { TIMELINE_SLOT_MS, TIMELINE_SLOTS, TimelineBucket } from "../status/history.ts";
import { DAY_INCIDENTS_KEEP, DaySummary, HISTORY_DAYS, addOutcome, noOutcomes } from "../status/days.ts";
import { stageOfCheck } from "../probes/catalog.ts";
import type { Incident } from "../alerting/incidents.ts";
import type { ProbeInfo } from "../status/document.ts";
import type { SentinelState } from "./state.ts";

/**
 * The tick's past, kept apart from what it rewrites every minute, so the every-minute documents stay
 * the same size after a day as after an hour (issue "The whole bill"):
 *
 * - the hot memory (tick:state) and the status document hold only the timeline slot still filling and
 *   today's summary;
 * - `past:slots` holds the closed 15-minute slots of the last 24 hours. It is read and rewritten only
 *   by the tick that finds a closed slot in the hot memory: once every 15 minutes;
 * - `past:days` holds the closed days (HISTORY_DAYS - 1 of them, today being the hot one), read and
 *   rewritten only by the first tick of a UTC day.
 *
 * A status view reads the state and both past documents in one MGET and builds the document from them
 * (shared/tick/publish.ts), so every reader still gets the whole 24-hour timeline and 90 days.
 */

export const PastSlots = z.object({
  version: z.literal(1).default(1),
  /** Per probe, closed slots of the last 24 hours, oldest first. */
  slots: z.record(z.string(), z.array(TimelineBucket)).default({}),
});
export type PastSlots = z.infer<typeof PastSlots>;

export const PastDays = z.object({
  version: z.literal(1).default(1),
  /** Closed UTC days, oldest first, at most HISTORY_DAYS - 1. */
  days: z.array(DaySummary).default([]),
});
export type PastDays = z.infer<typeof PastDays>;

/** What a tick found to move out of its hot memory: which past documents it must read and rewrite. */
export interface PastDue {
  slots: boolean;
  days: boolean;
}

const DAY_MS = 86_400_000;
export function dayOf(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** Whether the hot memory holds a closed slot (any probe's) or a closed day, as of `nowMs`. Pure. */
export function pastDue(state: SentinelState, nowMs: number): PastDue {
  const current = Math.floor(nowMs / TIMELINE_SLOT_MS);
  return {
    slots: Object.values(state.probes).some((p) => p.timeline.some((b) => b.i < current)),
    days: state.today !== undefined && state.today.day !== dayOf(nowMs),
  };
}

/**
 * Moves the closed slots out of the hot memory into `past` (dropping what is older than 24 hours).
 * Mutates `state`; returns the new past.
 */
export function moveSlots(state: SentinelState, past: PastSlots, nowMs: number): PastSlots {
  const current = Math.floor(nowMs / TIMELINE_SLOT_MS);
  const oldest = current - TIMELINE_SLOTS + 1;
  const slots: Record<string, TimelineBucket[]> = {};
  for (const [probe, kept] of Object.entries(past.slots)) {
    const recent = kept.filter((b) => b.i >= oldest);
    if (recent.length) slots[probe] = recent;
  }
  for (const [probe, memory] of Object.entries(state.probes)) {
    const closed = memory.timeline.filter((b) => b.i < current);
    if (!closed.length) continue;
    memory.timeline = memory.timeline.filter((b) => b.i >= current);
    const byIndex = new Map((slots[probe] ?? []).map((b) => [b.i, b]));
    for (const b of closed) if (b.i >= oldest) byIndex.set(b.i, b);
    slots[probe] = [...byIndex.values()].sort((a, b) => a.i - b.i);
  }
  return { version: 1, slots };
}

/** Moves a closed `today` into the past days (keeping HISTORY_DAYS - 1). Mutates `state`; returns the new past. */
export function moveDay(state: SentinelState, past: PastDays, nowMs: number): PastDays {
  const today = dayOf(nowMs);
  const closed = state.today && state.today.day !== today ? state.today : undefined;
  if (!closed) return past;
  delete state.today;
  const days = [...past.days.filter((d) => d.day !== closed.day && d.day < today), closed].sort((a, b) => a.day.localeCompare(b.day));
  return { version: 1, days: days.slice(-(HISTORY_DAYS - 1)) };
}

/** The SLI counters' fields of one UTC day (shared/slo/counters.ts: `d<day>g`, `d<day>t`). */
function dayCounts(counters: Record<string, number> | undefined, day: string): { good: number; total: number } {
  const index = Math.floor(Date.parse(`${day}T00:00:00Z`) / DAY_MS);
  return { good: counters?.[`d${index}g`] ?? 0, total: counters?.[`d${index}t`] ?? 0 };
}

/**
 * Folds this tick's results into today's summary (a closed `today` must have been moved first): each
 * check's outcome counted under its check and under the stage it is about; each SLO's day from its
 * source's counters; the incidents firing at some point of the day, from the ledger. Mutates `state`.
 */
export function foldToday(
  state: SentinelState,
  input: { results: ProbeResult[]; infos: ProbeInfo[]; sloSources: Record<string, string | null>; incidents: Incident[]; nowMs: number },
): void {
  const day = dayOf(input.nowMs);
  const today: DaySummary = state.today && state.today.day === day ? state.today : { day, stages: {}, checks: {}, slos: {}, incidents: [], incidentsMore: 0 };
  const home = new Map(input.infos.map((p) => [p.id, p.stage]));
  for (const result of input.results) {
    for (const c of result.checks) {
      const key = `${result.probe}/${c.name}`;
      today.checks[key] = addOutcome(today.checks[key] ?? noOutcomes(), c.status);
      const stage = stageOfCheck(result.probe, home.get(result.probe) ?? "unknown", c.name);
      today.stages[stage] = addOutcome(today.stages[stage] ?? noOutcomes(), c.status);
    }
  }
  for (const [slo, source] of Object.entries(input.sloSources)) if (source) today.slos[slo] = dayCounts(state.counters[source], day);
  const start = Date.parse(`${day}T00:00:00Z`);
  const touched = input.incidents
    .filter((i) => Date.parse(i.firedAt) < start + DAY_MS && (i.resolvedAt === undefined || Date.parse(i.resolvedAt) >= start))
    .reverse()
    .map((i) => ({ id: i.id, title: i.title, stage: i.stage, severity: i.severity }));
  // The ledger keeps a week of incidents; what it listed earlier today stays listed.
  const listed = new Map([...touched, ...today.incidents].map((i) => [i.id, i]));
  const all = [...listed.values()].sort((a, b) => Number(b.id) - Number(a.id) || b.id.localeCompare(a.id));
  today.incidents = all.slice(0, DAY_INCIDENTS_KEEP);
  today.incidentsMore = Math.max(today.incidentsMore, all.length - DAY_INCIDENTS_KEEP);
  state.today = today;
}
