import { burnRateWindows, enoughEvents, type Objective, type Severity } from "./objectives.ts";

export interface Counts {
  good: number;
  total: number;
}

/** Sums good/total events of one source over [from, to) in milliseconds since the epoch. */
export type CountWindow = (source: string, fromMs: number, toMs: number) => Counts;

export interface WindowStatus {
  /** Window length in minutes. */
  minutes: number;
  good: number;
  total: number;
  /** Bad events over all events; null when the window holds no events. */
  errorRatio: number | null;
  /** errorRatio divided by the error budget (1 - target); null without events. */
  burnRate: number | null;
}

export interface BurnAlert {
  severity: Severity;
  factor: number;
  long: WindowStatus;
  short: WindowStatus;
  firing: boolean;
  /** True when both windows burn fast enough but even the widest long window has fewer than `enoughEvents`. */
  guarded: boolean;
  /**
   * Minutes of the rule's own long window, when too few events made it judge a wider one (doubled until
   * it holds `enoughEvents`, at most the period): `long` and `short` are then the wider pair.
   */
  widenedFrom?: number;
}

export interface SloStatus {
  id: string;
  title: string;
  target: number;
  periodDays: number;
  /** The event source used, or null when no source had events in the period. */
  source: string | null;
  events: number;
  /** Events a window must hold before it is judged (`enoughEvents`: follows the objective). */
  enoughEvents: number;
  period: WindowStatus;
  /**
   * 1 - period burn rate: the share of the period's error budget still unspent (below 0 when overspent);
   * null while the period holds fewer than `enoughEvents`.
   */
  budgetRemaining: number | null;
  /** Budget left as minutes of total outage, for people. */
  budgetRemainingMinutes: number | null;
  alerts: BurnAlert[];
  /** The most severe firing alert, if any. */
  severity: Severity | null;
  /** Alerts that are root causes of this SLO burning (the objective's `dependsOn`). */
  dependsOn?: string[];
}

const MINUTE = 60_000;

/** Evaluates one objective at `nowMs`. Pure: the counts come in through `count`. */
export function evaluateSlo(objective: Objective, count: CountWindow, nowMs: number): SloStatus {
  const periodMinutes = objective.periodDays * 24 * 60;
  const budget = 1 - objective.target;
  const windowOf = (source: string, minutes: number): WindowStatus => {
    const c = count(source, nowMs - minutes * MINUTE, nowMs);
    const errorRatio = c.total > 0 ? (c.total - c.good) / c.total : null;
    return { minutes, good: c.good, total: c.total, errorRatio, burnRate: errorRatio === null ? null : errorRatio / budget };
  };

  const enough = enoughEvents(objective);
  // The first source with enough events to judge, else the first with any (to show what there is).
  const totals = objective.sources.map((s) => ({ s, total: windowOf(s, periodMinutes).total }));
  const source = (totals.find((t) => t.total >= enough) ?? totals.find((t) => t.total > 0))?.s ?? null;
  const period = source ? windowOf(source, periodMinutes) : { minutes: periodMinutes, good: 0, total: 0, errorRatio: null, burnRate: null };
  const alerts = source
    ? burnRateWindows(objective.periodDays).map((rule): BurnAlert => {
        // Low traffic: a long window too thin to judge is widened (doubled, with its short window, up to
        // the period) until it holds enough events; the rule's factor still applies, detection is slower.
        let longMinutes = rule.longMinutes;
        let long = windowOf(source, longMinutes);
        while (long.total < enough && longMinutes * 2 <= periodMinutes) long = windowOf(source, (longMinutes *= 2));
        if (long.total < enough) long = windowOf(source, (longMinutes = rule.longMinutes));
        const short = windowOf(source, longMinutes / 12);
        const burning = (long.burnRate ?? 0) >= rule.factor && (short.burnRate ?? 0) >= rule.factor;
        const judged = long.total >= enough;
        return {
          severity: rule.severity, factor: round(rule.factor), long, short, firing: burning && judged, guarded: burning && !judged,
          ...(longMinutes !== rule.longMinutes ? { widenedFrom: rule.longMinutes } : {}),
        };
      })
    : [];
  const budgetRemaining = period.burnRate === null || period.total < enough ? null : 1 - period.burnRate;
  const firing = alerts.filter((a) => a.firing);
  return {
    id: objective.id, title: objective.title, target: objective.target, periodDays: objective.periodDays,
    source, events: period.total, enoughEvents: enough, period, budgetRemaining,
    budgetRemainingMinutes: budgetRemaining === null ? null : round(budgetRemaining * budget * periodMinutes),
    alerts,
    severity: firing.some((a) => a.severity === "page") ? "page" : firing.length ? "ticket" : null,
    ...(objective.dependsOn?.length ? { dependsOn: objective.dependsOn } : {}),
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
