import type { SloEntry, TimelineSlot } from "./schema.ts";

/**
 * Numbers and budgets in words people read, shared by the status page and `sentinel status`: no raw
 * 0.07407407407407407, no "-19900%" budget computed from five events.
 */

/** A measurement as shown: integers as they are, other numbers to three significant digits. */
export function num(value: unknown): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return String(value ?? "");
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : String(Number(value.toPrecision(3)));
}

/**
 * Fewer events than the SLO's `enoughEvents` in the period and the budget is not judged: one failure
 * among five events is "-19900% left" of a 99.9% objective, which says nothing yet. Documents written
 * before the guard followed the objective carry none: 100, the guard they were judged by.
 */
export const ENOUGH_EVENTS = 100;

type BudgetFields = Pick<SloEntry, "budgetRemaining" | "budgetRemainingMinutes" | "events" | "enoughEvents">;

export type BudgetView =
  | { kind: "no-events" }
  | { kind: "not-enough"; events: number; enough: number }
  | { kind: "left"; ratio: number; minutes: number | null }
  | { kind: "overspent"; ratio: number; minutes: number | null };

export function budgetView(s: BudgetFields): BudgetView {
  const enough = s.enoughEvents ?? ENOUGH_EVENTS;
  if (s.events === 0) return { kind: "no-events" };
  if (s.events < enough || s.budgetRemaining === null) return { kind: "not-enough", events: s.events, enough };
  return s.budgetRemaining < 0
    ? { kind: "overspent", ratio: -s.budgetRemaining, minutes: s.budgetRemainingMinutes === null ? null : -s.budgetRemainingMinutes }
    : { kind: "left", ratio: s.budgetRemaining, minutes: s.budgetRemainingMinutes };
}

/** "62.5% left (27 min)", "overspent by 40% (17 min)", "not enough data yet (12 of 100 events)". */
export function budgetText(s: BudgetFields): string {
  const v = budgetView(s);
  if (v.kind === "no-events") return "no events yet";
  if (v.kind === "not-enough") return `not enough data yet (${v.events} of ${v.enough} events)`;
  const mins = v.minutes === null ? "" : ` (${duration(v.minutes * 60)})`;
  return v.kind === "left" ? `${percent(v.ratio)} left${mins}` : `overspent by ${percent(v.ratio)}${mins}`;
}

/** A share as a percentage with as many decimals as it needs (at most two): "99.9%", "0.07%", "100%". */
export function percent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return "n/a";
  const p = ratio * 100;
  const digits = p === 0 || Math.abs(p) >= 10 ? 1 : 2;
  return `${String(Number(p.toFixed(digits)))}%`;
}

/** "45 s", "12 min", "3.5 h", "2 d". */
export function duration(seconds: number): string {
  const s = Math.max(0, seconds);
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Number((s / 3600).toFixed(1))} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** "24 h: 37 runs, all passing" / "24 h: 37 runs, 2 not passing" / "24 h: no runs". */
export function runsText(timeline: TimelineSlot[]): string {
  const runs = timeline.reduce((n, t) => n + t.runs, 0);
  const bad = timeline.reduce((n, t) => n + t.notPassing, 0);
  if (runs === 0) return "24 h: no runs";
  return `24 h: ${runs} run${runs === 1 ? "" : "s"}, ${bad === 0 ? "all passing" : `${bad} not passing`}`;
}
