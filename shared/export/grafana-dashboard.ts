import { METRIC } from "../status/metrics.ts";

/**
 * A Grafana dashboard (JSON model, importable through Dashboards > Import) over the metrics of
 * /api/metrics: the pipeline's stages, probe freshness and duration, alerts, and per SLO the budget,
 * burn rates and the SLI rebuilt from the `_total` counters. It needs no recording rules; the data
 * source is asked for on import (`DS_PROMETHEUS`).
 */

const DS = { type: "prometheus", uid: "${DS_PROMETHEUS}" } as const;

interface Target {
  expr: string;
  legendFormat: string;
  instant?: boolean;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: typeof DS;
  targets?: (Target & { refId: string; datasource: typeof DS })[];
  fieldConfig?: unknown;
  options?: unknown;
}

const STATE_COLOURS = { mode: "thresholds" } as const;

/**
 * Every state as one number per series, so a panel shows the state itself, not "passing or not" (which
 * painted a stage no probe watches red for ever): 0 pass, 1 unknown, 2 warn, 3 error (blind), 4 fail,
 * worst-last so `max` over time keeps the worst.
 */
export const STATE_CODES = [
  { state: "pass", code: 0, text: "passing", color: "green" },
  { state: "unknown", code: 1, text: "unknown", color: "#8e8e8e" },
  { state: "warn", code: 2, text: "degraded", color: "yellow" },
  { state: "error", code: 3, text: "blind", color: "orange" },
  { state: "fail", code: 4, text: "failing", color: "red" },
] as const;

/** The state of each `by` series of a `{state=...}` gauge family as its code (STATE_CODES). */
export function stateCodeExpr(metric: string, by: string): string {
  return STATE_CODES.map((s) => `(max by (${by}) (${metric}{state="${s.state}"}) == 1) * ${s.code}`).join("\nor ");
}

const STATE_FIELD = {
  color: STATE_COLOURS, min: 0, max: 4,
  mappings: [{ type: "value", options: Object.fromEntries(STATE_CODES.map((s) => [String(s.code), { text: s.text, color: s.color, index: s.code }])) }],
  thresholds: { mode: "absolute", steps: STATE_CODES.map((s, i) => ({ color: s.color, value: i === 0 ? null : s.code })) },
};

export function grafanaDashboard(): Record<string, unknown> {
  const panels: Panel[] = [];
  let y = 0;
  const row = (title: string) => {
    panels.push({ id: panels.length + 1, type: "row", title, gridPos: { x: 0, y, w: 24, h: 1 } });
    y += 1;
  };
  const panel = (type: string, title: string, description: string, w: number, h: number, x: number, targets: Target[], extra: Partial<Panel> = {}) => {
    panels.push({
      id: panels.length + 1, type, title, description, gridPos: { x, y, w, h }, datasource: DS,
      targets: targets.map((t, i) => ({ ...t, refId: String.fromCharCode(65 + i), datasource: DS })), ...extra,
    });
    if (x + w >= 24) y += h;
  };
  const states = { fieldConfig: { defaults: STATE_FIELD, overrides: [] } };

  row("Pipeline");
  panel("stat", "Overall state", "The pipeline's overall state: pass, warn (degraded), fail, error (blind) or unknown.", 6, 4, 0,
    [{ expr: stateCodeExpr(METRIC.overallState, "job"), legendFormat: "overall", instant: true }],
    { ...states, options: { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, textMode: "value", colorMode: "background" } });
  panel("stat", "Alerts firing", "Alerts firing now, by severity (held ones included).", 6, 4, 6,
    [{ expr: `sum by (severity) (${METRIC.alertsFiring})`, legendFormat: "{{severity}}", instant: true }],
    { fieldConfig: { defaults: { thresholds: { mode: "absolute", steps: [{ color: "green", value: null }, { color: "red", value: 1 }] } }, overrides: [] } });
  panel("stat", "Silences in force", "Maintenance windows holding notifications now.", 4, 4, 12,
    [{ expr: METRIC.silencesActive, legendFormat: "silences", instant: true }]);
  panel("stat", "Oldest probe result", "Seconds since the stalest probe last ran.", 8, 4, 16,
    [{ expr: `max(time() - ${METRIC.probeLastRun})`, legendFormat: "age", instant: true }],
    { fieldConfig: { defaults: { unit: "s" }, overrides: [] } });
  panel("state-timeline", "Stages", "Each pipeline stage's state over time: passing, degraded, failing, blind, or unknown (no probe watches it).", 24, 7, 0,
    [{ expr: stateCodeExpr(METRIC.stageState, "stage"), legendFormat: "{{stage}}" }], states);

  row("Probes");
  panel("state-timeline", "Probe states", "Each probe's own state over time (checks held behind a root cause elsewhere excepted).", 12, 8, 0,
    [{ expr: stateCodeExpr(METRIC.probeState, "probe"), legendFormat: "{{probe}}" }], states);
  panel("timeseries", "Probe run time", "How long each probe's latest run took.", 12, 8, 12,
    [{ expr: `max by (probe) (${METRIC.probeDuration})`, legendFormat: "{{probe}}" }],
    { fieldConfig: { defaults: { unit: "s" }, overrides: [] } });
  panel("timeseries", "Probe result age", "Seconds since each probe last ran; a rising line is a probe that stopped.", 12, 8, 0,
    [{ expr: `max by (probe) (time() - ${METRIC.probeLastRun})`, legendFormat: "{{probe}}" }],
    { fieldConfig: { defaults: { unit: "s" }, overrides: [] } });
  panel("timeseries", "Stale probes", "1 while a probe has not reported for longer than its stale limit.", 12, 8, 12,
    [{ expr: `max by (probe) (${METRIC.probeStale})`, legendFormat: "{{probe}}" }]);

  row("SLOs");
  panel("bargauge", "Error budget left", "Share of each SLO's error budget left in its period (below 0 when overspent).", 12, 8, 0,
    [{ expr: `max by (slo) (${METRIC.sloBudgetRemainingRatio}{slo=~"$slo"})`, legendFormat: "{{slo}}", instant: true }],
    { fieldConfig: { defaults: { unit: "percentunit", min: 0, max: 1 }, overrides: [] } });
  panel("timeseries", "Burn rate by window", "Error ratio over the error budget; 1 spends the budget exactly over the period.", 12, 8, 12,
    [{ expr: `max by (slo, window) (${METRIC.sloBurnRate}{slo=~"$slo"})`, legendFormat: "{{slo}} {{window}}" }]);
  panel("timeseries", "SLI from the event counters (5m)", "Good over all events in 5-minute windows, from the _total counters; compare with the target.", 12, 8, 0,
    [
      { expr: `sum by (slo) (rate(${METRIC.sloGoodEvents}{slo=~"$slo"}[5m])) / sum by (slo) (rate(${METRIC.sloEvents}{slo=~"$slo"}[5m]))`, legendFormat: "{{slo}}" },
      { expr: `max by (slo) (${METRIC.sloTarget}{slo=~"$slo"})`, legendFormat: "{{slo}} target" },
    ],
    { fieldConfig: { defaults: { unit: "percentunit", max: 1 }, overrides: [] } });
  panel("timeseries", "Error budget left (time)", "Error budget left as time of total outage.", 12, 8, 12,
    [{ expr: `max by (slo) (${METRIC.sloBudgetRemainingSeconds}{slo=~"$slo"})`, legendFormat: "{{slo}}" }],
    { fieldConfig: { defaults: { unit: "s" }, overrides: [] } });

  return {
    __inputs: [{ name: "DS_PROMETHEUS", label: "Prometheus", description: "Where /api/metrics is scraped", type: "datasource", pluginId: "prometheus", pluginName: "Prometheus" }],
    __requires: [{ type: "datasource", id: "prometheus", name: "Prometheus", version: "1.0.0" }],
    uid: "beacon-sentinel",
    title: "Beacon Sentinel",
    description: "Beacon's job pipeline as the sentinel sees it: stages, probes, alerts and SLOs (from /api/metrics).",
    tags: ["beacon", "sentinel", "slo"],
    editable: true,
    schemaVersion: 39,
    version: 1,
    time: { from: "now-24h", to: "now" },
    refresh: "1m",
    templating: {
      list: [{
        name: "slo", label: "SLO", type: "query", datasource: DS, query: { query: `label_values(${METRIC.sloTarget}, slo)`, refId: "slo" },
        definition: `label_values(${METRIC.sloTarget}, slo)`, multi: true, includeAll: true, current: { text: "All", value: "$__all" }, refresh: 2,
      }],
    },
    panels,
  };
}
