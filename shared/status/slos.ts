import { z } from "zod";
import { SloCounters, type SloEntry, type SloWindow } from "./schema.ts";

const Window = z.object({
  minutes: z.number(), good: z.number(), total: z.number(), errorRatio: z.number().nullable(), burnRate: z.number().nullable(),
});

/** The SLO statuses of one evaluation (shared/slo/evaluate.ts SloStatus), as the tick hands them over. */
export const StoredSlos = z.object({
  evaluatedAt: z.string(),
  slos: z.array(z.object({
    id: z.string(), title: z.string(), target: z.number(), periodDays: z.number(),
    source: z.string().nullable(), events: z.number(), enoughEvents: z.number().optional(), period: Window,
    budgetRemaining: z.number().nullable(), budgetRemainingMinutes: z.number().nullable(),
    alerts: z.array(z.object({ severity: z.string(), factor: z.number(), long: Window, short: Window, firing: z.boolean(), guarded: z.boolean() })),
    severity: z.string().nullable(),
  })),
});
export type StoredSlos = z.infer<typeof StoredSlos>;

/** "5m", "1h", "30d": a window length in minutes, for people and Prometheus labels. */
export function windowLabel(minutes: number): string {
  if (minutes >= 1440 && minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes >= 60 && minutes % 60 === 0) return `${minutes / 60}h`;
  return `${Math.round(minutes * 100) / 100}m`;
}

type StoredWindow = StoredSlos["slos"][number]["period"];

/** A window as shown: its burn rate only when it holds enough events to be judged (no "burn 472×" beside "not enough data"). */
function window(w: StoredWindow, enough: number): SloWindow {
  return { window: windowLabel(w.minutes), minutes: w.minutes, good: w.good, total: w.total, errorRatio: w.errorRatio, burnRate: w.total >= enough ? w.burnRate : null };
}

/** What an SLO stored before the guard followed the objective was judged by. */
const OLD_GUARD = 100;

/** The fan-in's SLO statuses as the status document shows them: the period first, then every alert window once. */
export function sloEntries(stored: StoredSlos | null): { evaluatedAt: string | null; items: SloEntry[] } {
  if (!stored) return { evaluatedAt: null, items: [] };
  return {
    evaluatedAt: stored.evaluatedAt,
    items: stored.slos.map((s) => {
      const enough = s.enoughEvents ?? OLD_GUARD;
      const alertWindows = new Map<number, StoredWindow>();
      for (const a of s.alerts) for (const w of [a.short, a.long]) if (w.minutes !== s.period.minutes) alertWindows.set(w.minutes, w);
      return {
        id: s.id, title: s.title, target: s.target, periodDays: s.periodDays, source: s.source, events: s.events, enoughEvents: enough,
        windows: [window(s.period, enough), ...[...alertWindows.values()].sort((a, b) => a.minutes - b.minutes).map((w) => window(w, enough))],
        budgetRemaining: s.budgetRemaining, budgetRemainingMinutes: s.budgetRemainingMinutes,
        burnAlerts: s.alerts.map((a) => ({
          severity: a.severity, factor: a.factor, longWindow: windowLabel(a.long.minutes), shortWindow: windowLabel(a.short.minutes),
          // A pair is judged on its long window: without enough events there, neither rate is shown.
          longBurnRate: a.long.total >= enough ? a.long.burnRate : null, shortBurnRate: a.long.total >= enough ? a.short.burnRate : null,
          firing: a.firing, guarded: a.guarded,
        })),
        severity: s.severity,
        ...countersOf(s),
      };
    }),
  };
}

/**
 * The SLO's lifetime event counters, when the fan-in's stored status carries them (`counters: {good,
 * total}` beside each SLO); read defensively, so an older fan-in's status simply has none.
 */
function countersOf(stored: object): { counters?: SloCounters } {
  const parsed = SloCounters.safeParse((stored as { counters?: unknown }).counters);
  return parsed.success && parsed.data.good <= parsed.data.total ? { counters: parsed.data } : {};
}
