import { State, type StatusDocument } from "./schema.ts";

/**
 * The status document in the Prometheus text exposition format (version 0.0.4), for Grafana users.
 * Hand-written: it is small, and a dependency would add more than it saves. Every series is a gauge;
 * an SLO window without events has no sample (absent, not zero: zero would read as "no errors").
 */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;

/** Samples grouped by family, as the format requires, in the order families were first declared. */
class Exposition {
  private families = new Map<string, { help: string; samples: string[] }>();

  gauge(name: string, help: string, labels: Labels, value: number | null | undefined): void {
    let family = this.families.get(name);
    if (!family) this.families.set(name, (family = { help, samples: [] }));
    if (value === null || value === undefined) return;
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    family.samples.push(`${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`);
  }

  text(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} gauge`, ...f.samples);
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

export function prometheusMetrics(doc: StatusDocument): string {
  const x = new Exposition();
  x.gauge("sentinel_status_generated_timestamp_seconds", "When this status was computed (Unix time).", {}, seconds(doc.generatedAt));
  for (const state of State.options) {
    x.gauge("sentinel_overall_state", "1 for the pipeline's overall state (pass, warn, fail, error = blind, unknown), 0 for the others.", { state }, doc.overall.state === state ? 1 : 0);
  }
  for (const stage of doc.stages) {
    for (const state of State.options) {
      x.gauge("sentinel_stage_state", "1 for the state each pipeline stage is in, 0 for the others.", { stage: stage.id, state }, stage.state === state ? 1 : 0);
    }
  }
  for (const p of doc.probes) {
    const labels = { probe: p.id, stage: p.stage };
    for (const state of State.options) x.gauge("sentinel_probe_state", "1 for the state each probe's latest result is in, 0 for the others.", { ...labels, state }, p.state === state ? 1 : 0);
    x.gauge("sentinel_probe_stale", "1 when a probe has not reported for longer than its stale limit.", labels, p.stale ? 1 : 0);
    x.gauge("sentinel_probe_last_run_timestamp_seconds", "When the probe's latest run started (Unix time).", labels, seconds(p.latest?.startedAt));
    x.gauge("sentinel_probe_duration_seconds", "How long the probe's latest run took.", labels, p.latest ? p.latest.durationMs / 1000 : null);
    for (const c of p.latest?.checks ?? []) {
      x.gauge("sentinel_check_passing", "1 when a check of a probe's latest result passed, 0 otherwise.", { probe: p.id, check: c.name }, c.status === "pass" ? 1 : 0);
    }
  }
  x.gauge("sentinel_slo_evaluated_timestamp_seconds", "When the fan-in last evaluated the SLOs (Unix time).", {}, seconds(doc.slos.evaluatedAt));
  for (const s of doc.slos.items) {
    const slo = { slo: s.id };
    x.gauge("sentinel_slo_target", "The SLO's target: the share of events that must be good.", slo, s.target);
    x.gauge("sentinel_slo_period_events", "Events behind the SLO in its period, from the source it uses.", { ...slo, source: s.source ?? "" }, s.events);
    for (const w of s.windows) {
      const labels = { ...slo, window: w.window };
      x.gauge("sentinel_slo_sli", "Share of good events (the SLI) over each window; absent without events.", labels, w.errorRatio === null ? null : 1 - w.errorRatio);
      x.gauge("sentinel_slo_error_ratio", "Share of bad events over each window; absent without events.", labels, w.errorRatio);
      x.gauge("sentinel_slo_burn_rate", "Error ratio over the error budget, per window; 1 spends the budget exactly over the period.", labels, w.burnRate);
    }
    x.gauge("sentinel_slo_error_budget_remaining_ratio", "Share of the period's error budget left (below 0 when overspent).", slo, s.budgetRemaining);
    x.gauge("sentinel_slo_error_budget_remaining_minutes", "Error budget left, as minutes of total outage.", slo, s.budgetRemainingMinutes);
    x.gauge("sentinel_slo_burning", "1 while a burn-rate alert of the SLO fires.", slo, s.severity ? 1 : 0);
  }
  const firing = new Map<string, { severity: string; type: string; n: number }>();
  for (const a of doc.alerts.firing) {
    const key = `${a.severity}/${a.type}`;
    firing.set(key, { severity: a.severity, type: a.type, n: (firing.get(key)?.n ?? 0) + 1 });
  }
  x.gauge("sentinel_alerts_firing", "Alerts firing now, by severity and type.", {}, null);
  for (const f of firing.values()) x.gauge("sentinel_alerts_firing", "", { severity: f.severity, type: f.type }, f.n);
  x.gauge("sentinel_silences_active", "Silences (maintenance windows) in force now.", {}, doc.alerts.silences.filter((s) => s.active).length);
  return x.text();
}
