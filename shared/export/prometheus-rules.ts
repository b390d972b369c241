import { burnRateWindows, enoughEvents, type Objective } from "../slo/objectives.ts";
import { METRIC } from "../status/metrics.ts";
import { toYaml } from "./yaml.ts";

/**
 * Prometheus recording and alerting rules that rebuild the sentinel's SLOs from the `_total` counters
 * of /api/metrics, in the style of Sloth: one recorded error ratio per window, then multiwindow,
 * multi-burn-rate alerts with the fan-in's own windows and factors (shared/slo/objectives.ts), and its
 * minimum-events guard. The SLI is event-weighted over every window, the period included, as the fan-in
 * computes it: the period rule reads the counters over the whole period (keep that much retention).
 */

/** Names of the recorded series, for the dashboard and the tests. */
export const RECORDED = {
  errorRatio: (window: string) => `sentinel_slo:sli_error:ratio_rate${window}`,
  events: (window: string) => `sentinel_slo:events:increase${window}`,
  objective: "sentinel_slo:objective:ratio",
  errorBudget: "sentinel_slo:error_budget:ratio",
  budgetRemaining: "sentinel_slo:period_error_budget_remaining:ratio",
} as const;

export const ALERT_NAME = "SentinelErrorBudgetBurn";

/** A window length as a Prometheus duration: "5m", "1h", "30d", "10s". */
export function promDuration(minutes: number): string {
  const ms = Math.round(minutes * 60_000);
  if (ms <= 0) throw new Error(`a window must be positive, got ${minutes} minutes`);
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Twelve significant digits: 1 - 0.999 prints as 0.001, not 0.0010000000000000009. */
const num = (n: number) => String(Number(n.toPrecision(12)));

interface RecordingRule {
  record: string;
  expr: string;
  /** The SLO's id on every record: it keeps the records of different SLOs apart (promtool lints that). */
  labels: Record<string, string>;
}
interface AlertingRule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface RuleFile {
  groups: { name: string; rules: (RecordingRule | AlertingRule)[] }[];
}

export const SELF_ALERTS = { stalled: "SentinelStalled", probeFailing: "SentinelProbeFailing", probeBlind: "SentinelProbeBlind" } as const;

/** Minutes without a stored tick before Prometheus says the sentinel stalled (ticks run every minute). */
export const STALLED_AFTER_MINUTES = 5;

/** What the export can be told; each default is what `beacon-sentinel export prometheus-rules` writes. */
export interface RuleOptions {
  /** Minutes without a stored tick before SentinelStalled fires (default STALLED_AFTER_MINUTES). */
  stalledAfterMinutes?: number;
}

export function prometheusRules(objectives: Objective[], options: RuleOptions = {}): RuleFile {
  const stalledAfterMinutes = options.stalledAfterMinutes ?? STALLED_AFTER_MINUTES;
  if (!(Number.isFinite(stalledAfterMinutes) && stalledAfterMinutes > 0)) throw new Error(`stalledAfterMinutes must be a positive number of minutes, got ${stalledAfterMinutes}`);
  return { groups: [...objectives.map(sloGroup), selfGroup(stalledAfterMinutes)] };
}

/**
 * The sentinel watched from outside, so a stalled sentinel or a failing probe alerts even when the
 * sentinel cannot: no tick stored for `stalledAfterMinutes` (or no tick metric at all), a probe whose
 * own state is `fail` (checks held behind a root cause elsewhere are not: one fault, one alert), and a
 * probe that cannot measure (`error`: blind or stale) as a ticket.
 */
function selfGroup(stalledAfterMinutes: number): { name: string; rules: AlertingRule[] } {
  const seconds = num(stalledAfterMinutes * 60);
  return {
    name: "sentinel-self",
    rules: [
      {
        alert: SELF_ALERTS.stalled,
        expr: [`time() - ${METRIC.lastTick} > ${seconds}`, "or", `absent(${METRIC.lastTick})`].join("\n"),
        labels: { severity: "page" },
        annotations: {
          summary: "Beacon Sentinel has stopped ticking",
          description: `No tick of the sentinel was stored for more than ${num(stalledAfterMinutes)} minutes (ticks run every minute): nothing is being measured or announced. Check the scheduled function's logs and the store.`,
        },
      },
      {
        alert: SELF_ALERTS.probeFailing,
        expr: `${METRIC.probeState}{state="fail"} == 1`,
        labels: { severity: "page" },
        annotations: { summary: "Sentinel probe {{ $labels.probe }} is failing", description: "The probe's latest result fails (its checks held behind a root cause elsewhere excepted): see the status page." },
      },
      {
        alert: SELF_ALERTS.probeBlind,
        expr: `${METRIC.probeState}{state="error"} == 1`,
        labels: { severity: "ticket" },
        annotations: { summary: "Sentinel probe {{ $labels.probe }} cannot measure", description: "The probe's latest result could not measure, or no result came for twice its interval (stale)." },
      },
    ],
  };
}

export function prometheusRulesYaml(objectives: Objective[], options: RuleOptions = {}): string {
  const header = [
    "# Prometheus rules for Beacon Sentinel's SLOs: `npx beacon-sentinel export prometheus-rules` writes them from the",
    "# configured SLOs (SENTINEL_SETTINGS.slos). Check them with: promtool check rules <file>",
  ];
  return `${header.join("\n")}\n${toYaml(prometheusRules(objectives, options))}`;
}

function sloGroup(o: Objective): { name: string; rules: (RecordingRule | AlertingRule)[] } {
  const sel = `{slo="${o.id}"}`;
  const budget = 1 - o.target;
  const rules = burnRateWindows(o.periodDays);
  const period = promDuration(o.periodDays * 1440);
  const windows = [...new Set(rules.flatMap((r) => [r.shortMinutes, r.longMinutes]))].sort((a, b) => a - b).map(promDuration);

  const errorRatio = (w: string): RecordingRule => ({
    record: RECORDED.errorRatio(w),
    expr: [
      "1 - (",
      `  sum by (slo) (rate(${METRIC.sloGoodEvents}${sel}[${w}]))`,
      "  /",
      `  sum by (slo) (rate(${METRIC.sloEvents}${sel}[${w}]))`,
      ")",
    ].join("\n"),
    labels: { slo: o.id },
  });
  const recordings: RecordingRule[] = [
    ...windows.map(errorRatio),
    ...[...new Set(rules.map((r) => promDuration(r.longMinutes)))].map((w) => ({
      record: RECORDED.events(w), expr: `sum by (slo) (increase(${METRIC.sloEvents}${sel}[${w}]))`, labels: { slo: o.id },
    })),
    ...(windows.includes(period) ? [] : [errorRatio(period)]),
    { record: RECORDED.objective, expr: `vector(${num(o.target)})`, labels: { slo: o.id } },
    { record: RECORDED.errorBudget, expr: `vector(${num(budget)})`, labels: { slo: o.id } },
    { record: RECORDED.budgetRemaining, expr: `1 - ${RECORDED.errorRatio(period)}${sel} / ${num(budget)}`, labels: { slo: o.id } },
  ];

  const alerts: AlertingRule[] = (["page", "ticket"] as const).flatMap((severity) => {
    const mine = rules.filter((r) => r.severity === severity);
    if (mine.length === 0) return [];
    const clauses = mine.map((r) => {
      const long = promDuration(r.longMinutes);
      const threshold = `(${num(r.factor)} * ${num(budget)})`;
      return [
        "(",
        `  ${RECORDED.errorRatio(long)}${sel} >= ${threshold}`,
        `  and ${RECORDED.errorRatio(promDuration(r.shortMinutes))}${sel} >= ${threshold}`,
        `  and ${RECORDED.events(long)}${sel} >= ${enoughEvents(o)}`,
        ")",
      ].join("\n");
    });
    const pairs = mine.map((r) => `${promDuration(r.longMinutes)}/${promDuration(r.shortMinutes)} at ${num(r.factor)}x`).join(" or ");
    return [{
      alert: ALERT_NAME,
      expr: clauses.join("\nor\n"),
      labels: { severity, slo: o.id },
      annotations: {
        summary: `SLO ${o.id} is burning its error budget (${severity})`,
        description: `${o.title}: target ${num(o.target * 100)}% over ${o.periodDays} days. Fires when the error ratio burns the budget at ${pairs} (long and short window), with at least ${enoughEvents(o)} events in the long window (one bad event alone never spends the budget).`,
      },
    }];
  });
  return { name: `sentinel-slo-${o.id}`, rules: [...recordings, ...alerts] };
}
