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
    source: z.string().nullable(), events: z.number(), period: Window,
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

function window(w: StoredWindow): SloWindow {
  return { window: windowLabel(w.minutes), minutes: w.minutes, good: w.good, total: w.total, errorRatio: w.errorRatio, burnRate: w.burnRate };
}

/** The fan-in's SLO statuses as the status document shows them: the period first, then every alert window once. */
export function sloEntries(stored: StoredSlos | null): { evaluatedAt: string | null; items: SloEntry[] } {
  if (!stored) return { evaluatedAt: null, items: [] };
  return {
    evaluatedAt: stored.evaluatedAt,
    items: stored.slos.map((s) => {
      const alertWindows = new Map<number, StoredWindow>();
      for (const a of s.alerts) for (const w of [a.short, a.long]) if (w.minutes !== s.period.minutes) alertWindows.set(w.minutes, w);
      return {
        id: s.id, title: s.title, target: s.target, periodDays: s.periodDays, source: s.source, events: s.events,
        windows: [window(s.period), ...[...alertWindows.values()].sort((a, b) => a.minutes - b.minutes).map(window)],
        budgetRemaining: s.budgetRemaining, budgetRemainingMinutes: s.budgetRemainingMinutes,
        burnAlerts: s.alerts.map((a) => ({
          severity: a.severity, factor: a.factor, longWindow: windowLabel(a.long.minutes), shortWindow: windowLabel(a.short.minutes),
          longBurnRate: a.long.burnRate, shortBurnRate: a.short.burnRate, firing: a.firing, guarded: a.guarded,
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
