import { z } from "zod";
import { State } from "../result.ts";
import type { StatusDocument } from "./schema.ts";
import { DayIncident, dayState, HISTORY_DAYS, noOutcomes, runsOf, uptimeOf, type Outcomes } from "./days.ts";

/**
 * The 90 days as they are shown: the status document's daily summaries (`history.days`) laid on a
 * calendar that ends today (the document's UTC day), a missing day kept as a day without data, each
 * day's state (dayState) and uptime, per stage in pipeline order (as `doc.stages` gives them) and per
 * check when asked. One pure function of the document, so the page's bars, GET /api/history and
 * `beacon-sentinel history` count the same runs.
 */

/** What GET /api/history and `beacon-sentinel history` take (a zod shape: parseQuery and the CLI share it). */
export const HistoryQuery = {
  days: z.coerce.number({ error: "must be a number" }).int("must be a whole number")
    .min(1, "must be at least 1").max(HISTORY_DAYS, `must be at most ${HISTORY_DAYS}`).default(HISTORY_DAYS),
  stage: z.string().min(1, "name a stage").optional(),
  check: z.string().regex(/^[^/]+\/.+$/, "must be <probe>/<check>, e.g. health/runner-health").optional(),
};
export type HistoryQuery = z.infer<z.ZodObject<typeof HistoryQuery>>;

const Count = z.number().int().nonnegative();
/** Runs by outcome, named (the stored tuple's order is an implementation detail of the document). */
export const OutcomeCounts = z.object({ pass: Count, warn: Count, fail: Count, error: Count });
export type OutcomeCounts = z.infer<typeof OutcomeCounts>;

const Tallied = {
  runs: Count,
  /** Passed or warned over judged runs (blind runs left out); null when nothing was judged. */
  uptime: z.number().nullable(),
  outcomes: OutcomeCounts,
};

export const ReportDay = z.object({ day: z.string(), state: State, ...Tallied });
export type ReportDay = z.infer<typeof ReportDay>;

export const ReportIncident = DayIncident.extend({ link: z.string() });
export type ReportIncident = z.infer<typeof ReportIncident>;

export const StageDay = ReportDay.extend({
  /** The stage's incidents firing that day, newest first. */
  incidents: z.array(ReportIncident),
  /** Incidents of the day (of any stage) beyond what the day kept. */
  incidentsMore: Count,
});
export type StageDay = z.infer<typeof StageDay>;

export const StageHistory = z.object({
  id: z.string(),
  title: z.string(),
  ...Tallied,
  /** Distinct incidents of this stage firing on some day of the window. */
  incidents: Count,
  /** Oldest first; the last is today so far. */
  days: z.array(StageDay),
});
export type StageHistory = z.infer<typeof StageHistory>;

export const CheckHistory = z.object({ id: z.string(), ...Tallied, days: z.array(ReportDay) });
export type CheckHistory = z.infer<typeof CheckHistory>;

/** GET /api/history's body and `beacon-sentinel history --json`: a stable, versioned envelope. */
export const HistoryReport = z.object({
  version: z.literal(1),
  generatedAt: z.string(),
  /** The window's first and last UTC day (today), and its length. */
  from: z.string(),
  to: z.string(),
  days: Count,
  stages: z.array(StageHistory),
  /** The check asked for (`check=`); empty otherwise. */
  checks: z.array(CheckHistory),
});
export type HistoryReport = z.infer<typeof HistoryReport>;

/** What is wrong with a query for this document: an unknown stage or check, each naming what is known. Empty when none. */
export function historyProblems(doc: StatusDocument, query: HistoryQuery): string[] {
  const problems: string[] = [];
  const stages = doc.stages.map((s) => s.id);
  if (query.stage !== undefined && !stages.includes(query.stage)) problems.push(`unknown stage "${query.stage.slice(0, 60)}"; the stages are ${stages.join(", ")}`);
  if (query.check !== undefined) {
    const known = knownChecks(doc);
    if (!known.includes(query.check)) {
      const shown = known.slice(0, 20).join(", ") + (known.length > 20 ? `, … (${known.length} in all)` : "");
      problems.push(`unknown check "${query.check.slice(0, 80)}"; checks are named <probe>/<check>: ${shown || "none has reported yet"}`);
    }
  }
  return problems;
}

/** Checks with history, and those the probes' latest results name (a check with no day yet is known, its days empty). */
function knownChecks(doc: StatusDocument): string[] {
  const names = new Set((doc.history?.days ?? []).flatMap((d) => Object.keys(d.checks)));
  for (const p of doc.probes) for (const c of p.latest?.checks ?? []) names.add(`${p.id}/${c.name}`);
  return [...names].sort();
}

/** The report for a query historyProblems found nothing wrong with. */
export function historyReport(doc: StatusDocument, query: HistoryQuery): HistoryReport {
  const calendar = lastDays(doc.generatedAt, query.days);
  const byDay = new Map((doc.history?.days ?? []).map((d) => [d.day, d]));
  const summaries = calendar.map((day) => ({ day, summary: byDay.get(day) }));
  const stages = doc.stages.filter((s) => query.stage === undefined || s.id === query.stage).map((stage): StageHistory => {
    const days = summaries.map(({ day, summary }): StageDay => ({
      ...reportDay(day, summary?.stages[stage.id]),
      incidents: (summary?.incidents ?? []).filter((i) => i.stage === stage.id).map((i) => ({ ...i, link: `/api/incidents/${encodeURIComponent(i.id)}` })),
      incidentsMore: summary?.incidentsMore ?? 0,
    }));
    return { id: stage.id, title: stage.title, ...tallied(days), incidents: new Set(days.flatMap((d) => d.incidents.map((i) => i.id))).size, days };
  });
  const checks = query.check === undefined ? [] : [query.check].map((id): CheckHistory => {
    const days = summaries.map(({ day, summary }) => reportDay(day, summary?.checks[id]));
    return { id, ...tallied(days), days };
  });
  return { version: 1, generatedAt: doc.generatedAt, from: calendar[0]!, to: calendar.at(-1)!, days: calendar.length, stages, checks };
}

/** The `count` UTC days ending with the one `iso` falls on, oldest first. */
export function lastDays(iso: string, count: number): string[] {
  const today = Date.parse(`${iso.slice(0, 10)}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => new Date(today - (count - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

function reportDay(day: string, tally: Outcomes | undefined): ReportDay {
  const t = tally ?? noOutcomes();
  return { day, state: dayState(t), runs: runsOf(t), uptime: uptimeOf(t), outcomes: named(t) };
}

/** Runs, uptime and outcomes summed over days. */
export function tallied(days: Pick<ReportDay, "outcomes">[]): { runs: number; uptime: number | null; outcomes: OutcomeCounts } {
  const sum = noOutcomes();
  for (const d of days) {
    sum[0] += d.outcomes.pass;
    sum[1] += d.outcomes.warn;
    sum[2] += d.outcomes.fail;
    sum[3] += d.outcomes.error;
  }
  return { runs: runsOf(sum), uptime: uptimeOf(sum), outcomes: named(sum) };
}

function named(t: Outcomes): OutcomeCounts {
  return { pass: t[0], warn: t[1], fail: t[2], error: t[3] };
}

/**
 * An uptime as people read it: rounded down, never up, so 99.996% is "99.99%", not "100%" (a day
 * with a failure never reads as perfect); "no data" when nothing was judged.
 */
export function uptimeText(ratio: number | null): string {
  if (ratio === null) return "no data";
  if (ratio >= 1) return "100%";
  return `${(Math.floor(ratio * 10_000) / 100).toFixed(2)}%`;
}

/** A day's outcome counts in words: "1440 runs: 1437 passing, 2 failing, 1 blind" (degraded only when some were). */
export function outcomesText(d: Pick<ReportDay, "runs" | "outcomes">): string {
  if (d.runs === 0) return "no runs";
  const o = d.outcomes;
  const parts = [`${o.pass} passing`, o.warn ? `${o.warn} degraded` : "", `${o.fail} failing`, `${o.error} blind`].filter(Boolean);
  return `${d.runs} run${d.runs === 1 ? "" : "s"}: ${parts.join(", ")}`;
}
