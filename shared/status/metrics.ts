import { AlertRecord } from "../alerting/state.ts";
import { State, type StatusDocument } from "./schema.ts";

/**
 * The status document in the Prometheus text exposition format (version 0.0.4), for Grafana users.
 * Hand-written: it is small, and a dependency would add more than it saves. Names follow Prometheus'
 * conventions (`promtool check metrics` passes them, and a test runs it): base units (seconds, ratios),
 * `_total` only on counters. A count that can be zero has a zero sample; a ratio over a window without
 * events has no sample (absent, not zero: zero would read as "no errors").
 */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;
type Kind = "gauge" | "counter";

/** Samples grouped by family, as the format requires, in the order families were first declared. */
class Exposition {
  private families = new Map<string, { kind: Kind; help: string; samples: string[] }>();

  gauge(name: string, help: string, labels: Labels, value: number | null | undefined): void {
    this.sample("gauge", name, help, labels, value);
  }

  /** A monotonic count; the name must end in `_total`. */
  counter(name: string, help: string, labels: Labels, value: number | null | undefined): void {
    if (!name.endsWith("_total")) throw new Error(`counter ${name} must end in _total`);
    this.sample("counter", name, help, labels, value);
  }

  private sample(kind: Kind, name: string, help: string, labels: Labels, value: number | null | undefined): void {
    let family = this.families.get(name);
    if (!family) this.families.set(name, (family = { kind, help, samples: [] }));
    if (value === null || value === undefined) return;
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    family.samples.push(`${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`);
  }

  text(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${f.kind}`, ...f.samples);
    }
    return `${lines.join("\n")}\n`;
  }
}

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

const seconds = (iso: string | null | undefined) => (iso ? Date.parse(iso) / 1000 : null);

/** The metric names the exporter can emit, for the rules and dashboard generators and their tests. */
export const METRIC = {
  sloTarget: "sentinel_slo_target",
  sloGoodEvents: "sentinel_slo_good_events_total",
  sloEvents: "sentinel_slo_events_total",
  sloBudgetRemainingRatio: "sentinel_slo_error_budget_remaining_ratio",
  sloBudgetRemainingSeconds: "sentinel_slo_error_budget_remaining_seconds",
  sloBurnRate: "sentinel_slo_burn_rate",
  sloSli: "sentinel_slo_sli",
  alertsFiring: "sentinel_alerts_firing",
  stageState: "sentinel_stage_state",
  probeState: "sentinel_probe_state",
  probeDuration: "sentinel_probe_duration_seconds",
  probeLastRun: "sentinel_probe_last_run_timestamp_seconds",
  probeStale: "sentinel_probe_stale",
  overallState: "sentinel_overall_state",
  silencesActive: "sentinel_silences_active",
  lastTick: "sentinel_last_tick_timestamp_seconds",
  nextTickBy: "sentinel_next_tick_due_timestamp_seconds",
  ticks: "sentinel_ticks_total",
  lostResults: "sentinel_lost_results_total",
  failedSends: "sentinel_notifications_failed_sends_total",
  unknownDeliveries: "sentinel_notifications_unknown_deliveries_total",
  collapsed: "sentinel_notifications_collapsed_total",
  pending: "sentinel_notifications_pending",
} as const;

const ALERT_TYPES = AlertRecord.shape.type.options;
const SEVERITIES = AlertRecord.shape.severity.unwrap().options;

export function prometheusMetrics(doc: StatusDocument): string {
  const x = new Exposition();
  x.gauge("sentinel_status_generated_timestamp_seconds", "When this status was computed (Unix time).", {}, seconds(doc.generatedAt));
  for (const state of State.options) {
    x.gauge(METRIC.overallState, "1 for the pipeline's overall state (pass, warn, fail, error = blind, unknown), 0 for the others.", { state }, doc.overall.state === state ? 1 : 0);
  }
  for (const stage of doc.stages) {
    for (const state of State.options) {
      x.gauge(METRIC.stageState, "1 for the state each pipeline stage is in, 0 for the others.", { stage: stage.id, state }, stage.state === state ? 1 : 0);
    }
  }
  for (const p of doc.probes) {
    const labels = { probe: p.id, stage: p.stage };
    for (const state of State.options) x.gauge(METRIC.probeState, "1 for the state each probe's latest result is in, 0 for the others.", { ...labels, state }, p.state === state ? 1 : 0);
    x.gauge(METRIC.probeStale, "1 when a probe has not reported for longer than its stale limit.", labels, p.stale ? 1 : 0);
    x.gauge(METRIC.probeLastRun, "When the probe's latest run started (Unix time).", labels, seconds(p.latest?.startedAt));
    x.gauge(METRIC.probeDuration, "How long the probe's latest run took.", labels, p.latest ? p.latest.durationMs / 1000 : null);
    for (const c of p.latest?.checks ?? []) {
      x.gauge("sentinel_check_passing", "1 when a check of a probe's latest result passed, 0 otherwise.", { probe: p.id, check: c.name }, c.status === "pass" ? 1 : 0);
    }
  }
  x.gauge("sentinel_slo_evaluated_timestamp_seconds", "When the fan-in last evaluated the SLOs (Unix time).", {}, seconds(doc.slos.evaluatedAt));
  for (const s of doc.slos.items) {
    const slo = { slo: s.id };
    x.gauge(METRIC.sloTarget, "The SLO's target: the share of events that must be good.", slo, s.target);
    x.gauge("sentinel_slo_period_seconds", "The SLO's compliance period.", slo, s.periodDays * 86_400);
    x.gauge("sentinel_slo_period_events", "Events behind the SLO in its period, from the source it uses.", { ...slo, source: s.source ?? "" }, s.events);
    for (const w of s.windows) {
      const labels = { ...slo, window: w.window };
      x.gauge(METRIC.sloSli, "Share of good events (the SLI) over each window; absent without events.", labels, w.errorRatio === null ? null : 1 - w.errorRatio);
      x.gauge("sentinel_slo_error_ratio", "Share of bad events over each window; absent without events.", labels, w.errorRatio);
      x.gauge(METRIC.sloBurnRate, "Error ratio over the error budget, per window; 1 spends the budget exactly over the period.", labels, w.burnRate);
    }
    x.gauge(METRIC.sloBudgetRemainingRatio, "Share of the period's error budget left (below 0 when overspent).", slo, s.budgetRemaining);
    x.gauge(METRIC.sloBudgetRemainingSeconds, "Error budget left, as seconds of total outage.", slo, s.budgetRemainingMinutes === null ? null : s.budgetRemainingMinutes * 60);
    x.gauge("sentinel_slo_burning", "1 while a burn-rate alert of the SLO fires.", slo, s.severity ? 1 : 0);
  }
  // Counters last among the SLO families: absent (no sample, no family) until the fan-in keeps them.
  for (const s of doc.slos.items) {
    if (!s.counters) continue;
    x.counter(METRIC.sloGoodEvents, "Good events counted toward the SLO since its counters began.", { slo: s.id }, s.counters.good);
    x.counter(METRIC.sloEvents, "All events counted toward the SLO since its counters began.", { slo: s.id }, s.counters.total);
  }
  const firing = new Map<string, number>();
  for (const a of doc.alerts.firing) firing.set(`${a.severity}/${a.type}`, (firing.get(`${a.severity}/${a.type}`) ?? 0) + 1);
  // Every known severity and type has a sample, zero when nothing fires: "0" rather than "No data".
  const seen = new Set<string>();
  for (const severity of SEVERITIES) {
    for (const type of ALERT_TYPES) {
      seen.add(`${severity}/${type}`);
      x.gauge(METRIC.alertsFiring, "Alerts firing now, by severity and type (held ones included).", { severity, type }, firing.get(`${severity}/${type}`) ?? 0);
    }
  }
  for (const [key, n] of firing) {
    if (seen.has(key)) continue; // a severity or type this build does not know (a newer fan-in's state)
    const [severity = "", type = ""] = key.split("/");
    x.gauge(METRIC.alertsFiring, "", { severity, type }, n);
  }
  x.gauge(METRIC.silencesActive, "Silences (maintenance windows) in force now.", {}, doc.alerts.silences.filter((s) => s.active).length);
  monitoringMetrics(x, doc.monitoring);
  return x.text();
}

/**
 * The sentinel watching itself, from the status document's `monitoring` section: absent (no family at
 * all) in a document written before the section existed, so a missing series means "not known", never 0.
 * The counters are lifetime counts kept in the tick's state; Prometheus' rate()/increase() handle a reset.
 */
function monitoringMetrics(x: Exposition, m: StatusDocument["monitoring"]): void {
  if (!m) return;
  x.gauge(METRIC.lastTick, "When the latest stored tick (probe runs and evaluation) started (Unix time).", {}, seconds(m.lastTickAt));
  x.gauge(METRIC.nextTickBy, "When the next tick is due; a scrape past it is reading a stalled sentinel (Unix time).", {}, seconds(m.nextTickBy));
  x.gauge(METRIC.pending, "Notifications decided and not yet delivered (retried by the next tick).", {}, m.pendingNotifications);
  x.counter(METRIC.ticks, "Ticks whose memory was stored.", {}, m.ticks);
  x.counter(METRIC.lostResults, "Probe runs whose results were never stored (store unreachable, tick overran, or no tick ran).", {}, m.lostResults);
  x.counter(METRIC.failedSends, "Notifications whose send failed (each kept pending and retried).", {}, m.failedSends);
  x.counter(METRIC.unknownDeliveries, "Notifications whose delivery is unknown (timed out after going out; never repeated).", {}, m.unknownDeliveries);
  x.counter(METRIC.collapsed, "Pending notifications folded into a summary because too many were pending.", {}, m.collapsedNotifications);
}
