import { z } from "zod";
import type { CheckStatus } from "../result.ts";

/**
 * 90 days at a glance: one compact summary per UTC day, per stage and per check, as the status page's
 * uptime bars, GET /api/history and `beacon-sentinel history` show them. The tick rolls each day up as
 * its runs arrive (shared/tick/past.ts) and keeps the closed days apart from its every-minute memory,
 * so a day costs a few hundred bytes once, not every minute.
 */

/** Runs by outcome, in this order: passed, warned, failed, blind (`error`: nothing could be judged). */
export const Outcomes = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int().nonnegative()]);
export type Outcomes = z.infer<typeof Outcomes>;

export const OUTCOME_ORDER = ["pass", "warn", "fail", "error"] as const satisfies readonly CheckStatus[];

/** An incident that was firing at some point of the day (shared/alerting/incidents.ts), as a bar's details list it. */
export const DayIncident = z.object({
  id: z.string(),
  title: z.string(),
  stage: z.string(),
  severity: z.string(),
});
export type DayIncident = z.infer<typeof DayIncident>;

export const DaySummary = z.object({
  /** The UTC day, YYYY-MM-DD. */
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** Per stage: the runs of the checks that watch it, by outcome. */
  stages: z.record(z.string(), Outcomes),
  /** Per check, keyed `<probe>/<check>`: its runs by outcome. */
  checks: z.record(z.string(), Outcomes),
  /** Per SLO: the day's good and total events (its attainment is good / total). */
  slos: z.record(z.string(), z.object({ good: z.number().nonnegative(), total: z.number().nonnegative() })),
  /** Incidents firing at some point of the day, newest first, at most DAY_INCIDENTS_KEEP. */
  incidents: z.array(DayIncident),
  /** Incidents of the day beyond the list. */
  incidentsMore: z.number().int().nonnegative().default(0),
});
export type DaySummary = z.infer<typeof DaySummary>;

export const HISTORY_DAYS = 90;
export const DAY_INCIDENTS_KEEP = 5;

/** An empty tally. */
export function noOutcomes(): Outcomes {
  return [0, 0, 0, 0];
}

/** Adds one run's outcome to a tally (a copy). */
export function addOutcome(tally: Outcomes, status: CheckStatus): Outcomes {
  const next: Outcomes = [...tally];
  next[Math.max(0, OUTCOME_ORDER.indexOf(status as (typeof OUTCOME_ORDER)[number]))]! += 1;
  return next;
}

/** Runs in a tally. */
export function runsOf(tally: Outcomes): number {
  return tally[0] + tally[1] + tally[2] + tally[3];
}

/** Share of judged runs that passed or warned (blind runs judge nothing: left out); null when nothing was judged. */
export function uptimeOf(tally: Outcomes): number | null {
  const judged = tally[0] + tally[1] + tally[2];
  return judged === 0 ? null : (tally[0] + tally[1]) / judged;
}

/**
 * A day's bar colour follows the share of its judged runs that failed, not a single run (decision,
 * issue 23; README "90 days"): a stage is judged every minute or so, 1,000+ runs a day, and a day
 * drawn red for one failed run looks the same as a day-long outage, so after 90 days most bars would
 * be red and nobody would read them. Statuspage grades a day by its minutes of downtime, OpenStatus
 * by its success ratio; so do we, and a failure is never hidden: any failed run makes the day at least
 * degraded, and its details say how many.
 *
 * Below this uptime the day is failing: more than 1% of judged runs failed (about 14 minutes of a
 * day of per-minute runs, 2 of the canary's 144).
 */
export const DAY_FAIL_BELOW = 0.99;
/** From this share of blind runs (nothing could be judged) the day is blind: the sentinel saw too little of it to vouch for it. */
export const DAY_BLIND_FROM = 0.1;

/**
 * A day's state, as its bar is drawn: `unknown` without runs; `error` (blind) when nothing was judged;
 * `fail` when its uptime is below DAY_FAIL_BELOW; `error` when DAY_BLIND_FROM of its runs were blind;
 * `warn` when any run failed, warned or was blind; else `pass`.
 */
export function dayState(tally: Outcomes): CheckStatus | "unknown" {
  const runs = runsOf(tally);
  if (runs === 0) return "unknown";
  const uptime = uptimeOf(tally);
  if (uptime === null) return "error";
  if (uptime < DAY_FAIL_BELOW) return "fail";
  if (tally[3] / runs >= DAY_BLIND_FROM) return "error";
  if (tally[1] + tally[2] + tally[3] > 0) return "warn";
  return "pass";
}
