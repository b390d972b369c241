import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { metricsRoute } from "../netlify/http/status-routes.ts";
import { httpFunction } from "../netlify/http/handler.ts";
import { evaluateNow, recordRun } from "./support/sentinel.ts";
import { loadSettings } from "../shared/config/index.ts";
import { PROBES } from "../shared/probes/catalog.ts";
import { burnRateWindows, Objectives, type Objective } from "../shared/slo/objectives.ts";
import { buildStatusDocument } from "../shared/status/document.ts";
import { prometheusMetrics } from "../shared/status/metrics.ts";
import type { StoredSlos } from "../shared/status/slos.ts";
import { check } from "../shared/result.ts";
import { AlertState } from "../shared/alerting/state.ts";
import type { MonitoringStatus } from "../shared/status/schema.ts";
import { ALERT_NAME, prometheusRules, prometheusRulesYaml, promDuration, RECORDED, SELF_ALERTS } from "../shared/export/prometheus-rules.ts";
import { grafanaDashboard, STATE_CODES, stateCodeExpr } from "../shared/export/grafana-dashboard.ts";
import { toYaml } from "../shared/export/yaml.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { inTempDir, promtool, requirePromtool } from "./support/promtool.ts";

/**
 * What Prometheus users get, checked by Prometheus' own tool: /api/metrics passes `promtool check
 * metrics`, the exported rules pass `promtool check rules` and fire when `promtool test rules` says they
 * should, and the Grafana dashboard queries only metrics the exporter emits.
 */

const exec = promisify(execFile);
const HAVE_PROMTOOL = requirePromtool();
const DEFAULTS: Objective[] = Objectives.parse(undefined);
const NOW = new Date("2026-05-01T12:00:00.000Z");

const FIRING = AlertState.parse({
  alerts: {
    "check/health/runner-health": {
      key: "check/health/runner-health", type: "check", stage: "runner-api", probe: "health", check: "runner-health", firing: true, since: NOW.toISOString(), severity: "page",
      snapshot: { title: "Runner health failing", message: "HTTP 503", observed: 503, threshold: 200, evidence: [], evidenceTotal: 0 },
    },
  },
});

/** The monitoring section of a sentinel that has had a rough month. */
const MONITORING: MonitoringStatus = {
  lastTickAt: "2026-05-01T11:59:00.000Z", nextTickBy: "2026-05-01T12:00:00.000Z", ticks: 1440, lostResults: 7, gaps: [{ from: "2026-04-30T10:00:00.000Z", to: "2026-04-30T10:07:00.000Z", missedRuns: 7 }],
  failedSends: 3, unknownDeliveries: 2, collapsedNotifications: 11, channels: {}, pendingNotifications: 4, lastSendError: "HTTP 500 from hooks.slack.com",
};

/** A status document with every family present: SLOs with counters, and (when asked) a firing alert. */
function fullDocument(counters = true, alerts: AlertState | null = null, monitoring?: MonitoringStatus) {
  const w = (minutes: number) => ({ minutes, good: 990, total: 1000, errorRatio: 0.01, burnRate: 1 });
  const slos: StoredSlos = {
    evaluatedAt: NOW.toISOString(),
    slos: DEFAULTS.map((o) => ({
      id: o.id, title: o.title, target: o.target, periodDays: o.periodDays, source: o.sources[0]!, events: 1000, period: w(43_200),
      budgetRemaining: 0.25, budgetRemainingMinutes: 108, severity: null,
      alerts: burnRateWindows(o.periodDays).map((r) => ({ severity: r.severity, factor: r.factor, long: w(r.longMinutes), short: w(r.shortMinutes), firing: false, guarded: false })),
      ...(counters ? { counters: { good: 123_456, total: 123_999 } } : {}),
    })),
  };
  const result = { version: 1 as const, probe: "health", status: "fail" as const, startedAt: NOW.toISOString(), durationMs: 120, checks: [check({ name: "runner-health", status: "fail", observed: 503, threshold: 200, message: "down" })] };
  return buildStatusDocument(
    { latest: { health: result }, histories: {}, timelines: {}, slos, alerts, silences: [], monitoring },
    { now: NOW, probes: [{ id: "health", title: "Service health", stage: "runner-api", schedule: "* * * * *", intervalMs: 60_000 }], staleFactor: 2, historyCount: 0 },
  );
}

describe("the exposition", () => {
  const families = Object.fromEntries(parsePrometheusTextFormat(prometheusMetrics(fullDocument())).map((f) => [f.name, f]));

  it("uses base units: seconds, not minutes", () => {
    expect(Object.keys(families).filter((n) => /minutes|_ms$|hours|days_total/.test(n))).toEqual([]);
    expect(families.sentinel_slo_error_budget_remaining_seconds?.metrics[0]?.value).toBe("6480");
  });

  it("has a zero sample for every severity and type while nothing fires", () => {
    const firing = families.sentinel_alerts_firing!.metrics;
    expect(firing.length).toBe(12);
    expect(firing.every((m) => m.value === "0")).toBe(true);
  });

  it("counts a firing alert under its severity and type, the others staying at zero", () => {
    const firing = parsePrometheusTextFormat(prometheusMetrics(fullDocument(true, FIRING))).find((f) => f.name === "sentinel_alerts_firing")!.metrics;
    expect(firing.filter((m) => m.value !== "0")).toEqual([{ labels: { severity: "page", type: "check" }, value: "1" }]);
  });

  it("exports the sentinel's own health from the status document's monitoring section", () => {
    const monitoring = MONITORING;
    const own = Object.fromEntries(parsePrometheusTextFormat(prometheusMetrics(fullDocument(true, null, monitoring))).map((f) => [f.name, f]));
    const sample = (name: string) => ({ type: own[name]?.type, value: own[name]?.metrics[0]?.value });
    expect(sample("sentinel_last_tick_timestamp_seconds")).toEqual({ type: "GAUGE", value: String(Date.parse(monitoring.lastTickAt!) / 1000) });
    expect(sample("sentinel_next_tick_due_timestamp_seconds")).toEqual({ type: "GAUGE", value: String(Date.parse(monitoring.nextTickBy!) / 1000) });
    expect(sample("sentinel_notifications_pending")).toEqual({ type: "GAUGE", value: "4" });
    expect(sample("sentinel_ticks_total")).toEqual({ type: "COUNTER", value: "1440" });
    expect(sample("sentinel_lost_results_total")).toEqual({ type: "COUNTER", value: "7" });
    expect(sample("sentinel_notifications_failed_sends_total")).toEqual({ type: "COUNTER", value: "3" });
    expect(sample("sentinel_notifications_unknown_deliveries_total")).toEqual({ type: "COUNTER", value: "2" });
    expect(sample("sentinel_notifications_collapsed_total")).toEqual({ type: "COUNTER", value: "11" });
    // Free text (the send error names Slack's host) stays out of the metrics.
    expect(prometheusMetrics(fullDocument(true, null, monitoring))).not.toContain("hooks.slack.com");
    // A document written before the section existed says nothing, rather than zero.
    expect(Object.keys(families).filter((n) => /tick|lost|notifications/.test(n))).toEqual([]);
  });

  it("exports the SLO event counters as _total counters when the status carries them", () => {
    expect(families.sentinel_slo_events_total).toMatchObject({ type: "COUNTER", metrics: expect.arrayContaining([{ labels: { slo: "job-success" }, value: "123999" }]) });
    expect(families.sentinel_slo_good_events_total?.type).toBe("COUNTER");
    const without = prometheusMetrics(fullDocument(false));
    expect(without).not.toContain("_total");
  });
});

describe.skipIf(!HAVE_PROMTOOL)("promtool check metrics", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let rt: Runtime;
  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start();
    rt = sentinelRuntime(sentinelEnv(h, sandbox));
  });
  afterAll(async () => {
    await rt?.close();
    await h?.close();
  });

  it("accepts /api/metrics as a deployment serves it, after every probe and a fan-in ran", async () => {
    for (const probe of PROBES) await recordRun(rt, probe.id);
    await evaluateNow(rt);
    const response = await httpFunction(metricsRoute, () => rt)(new Request("http://sentinel.test/api/metrics?v=2"));
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('sentinel_alerts_firing{severity="page",type="slo"} 0');
    expect(text).toContain("# TYPE sentinel_slo_target gauge");
    expect(text).toMatch(/^sentinel_last_tick_timestamp_seconds \d+(\.\d+)?$/m);
    expect(text).toMatch(/^sentinel_ticks_total [1-9]\d*$/m);
    expect(text).toContain("sentinel_notifications_pending 0");
    expect(await promtool(["check", "metrics"], text)).toEqual({ code: 0, out: "" });
  }, 60_000);

  it("accepts a document with every family: counters, firing alerts, budgets", async () => {
    expect(await promtool(["check", "metrics"], prometheusMetrics(fullDocument(true, FIRING, MONITORING)))).toEqual({ code: 0, out: "" });
  });

  it("is a real check: it rejects what the exporter used to write", async () => {
    const old = "# HELP sentinel_slo_error_budget_remaining_minutes x\n# TYPE sentinel_slo_error_budget_remaining_minutes gauge\nsentinel_slo_error_budget_remaining_minutes 1\n";
    expect((await promtool(["check", "metrics"], old)).out).toContain('use base unit "seconds" instead of "minutes"');
  });
});

describe("the exported rules", () => {
  it("alert on exactly the fan-in's windows and factors", () => {
    const groups = prometheusRules(DEFAULTS).groups;
    expect(groups.map((g) => g.name)).toEqual([...DEFAULTS.map((o) => `sentinel-slo-${o.id}`), "sentinel-self"]);
    for (const o of DEFAULTS) {
      const alerts = groups.find((g) => g.name === `sentinel-slo-${o.id}`)!.rules.filter((r) => "alert" in r);
      const exprs = alerts.map((a) => a.expr).join("\n");
      for (const r of burnRateWindows(o.periodDays)) {
        const threshold = `>= (${Number(r.factor.toPrecision(12))} * ${Number((1 - o.target).toPrecision(12))})`;
        expect(exprs).toContain(`${RECORDED.errorRatio(promDuration(r.longMinutes))}{slo="${o.id}"} ${threshold}`);
        expect(exprs).toContain(`${RECORDED.errorRatio(promDuration(r.shortMinutes))}{slo="${o.id}"} ${threshold}`);
      }
    }
  });

  it("stall after 5 minutes unless told otherwise, and refuse a threshold that is not a positive number", () => {
    const stalled = (options?: { stalledAfterMinutes?: number }) => prometheusRules(DEFAULTS, options).groups.at(-1)!.rules.find((r) => "alert" in r && r.alert === SELF_ALERTS.stalled) as { expr: string; annotations: Record<string, string> };
    expect(stalled().expr).toContain("sentinel_last_tick_timestamp_seconds > 300\n");
    expect(stalled({ stalledAfterMinutes: 0.25 }).expr).toContain("sentinel_last_tick_timestamp_seconds > 15\n");
    expect(stalled().annotations.description).toContain("for more than 5 minutes");
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => prometheusRules(DEFAULTS, { stalledAfterMinutes: bad })).toThrow(`stalledAfterMinutes must be a positive number of minutes, got ${bad}`);
    }
  });

  it.each([
    ["5m", 5], ["1h", 60], ["30d", 43_200], ["10s", 1 / 6], ["90s", 1.5], ["2h", 120],
  ])("writes %s for %d minutes", (duration, minutes) => {
    expect(promDuration(minutes)).toBe(duration);
  });
});

describe("the YAML writer", () => {
  it("writes blocks for multi-line strings, quotes what a block would change, and nests lists of maps", () => {
    const text = toYaml({ expr: "a\nb", kept: " lead\nx", trailing: "y \nz", list: [{ k: 1, v: [true, null] }], none: [], empty: {}, "odd key": 'q"uote' });
    expect(text).toBe([
      "expr: |-", "  a", "  b", 'kept: " lead\\nx"', 'trailing: "y \\nz"', "list:", "  - k: 1", "    v:", "      - true", "      - null",
      "none: []", "empty: {}", '"odd key": "q\\"uote"', "",
    ].join("\n"));
  });
});

describe.skipIf(!HAVE_PROMTOOL)("promtool check rules and test rules", () => {
  it.each([
    ["the default SLOs", DEFAULTS],
    ["a one-day period without an event guard", Objectives.parse([{ id: "quick", title: "Q", target: 0.95, periodDays: 1, minEvents: 0, sources: ["health:availability"] }])],
    ["a seven-day period", Objectives.parse([{ id: "weekly", title: "W", target: 0.999, periodDays: 7, sources: ["traffic:requests"] }])],
  ])("accepts the rules for %s", async (_name, objectives) => {
    const outcome = await inTempDir({ "rules.yml": prometheusRulesYaml(objectives) }, (dir) => promtool(["check", "rules", join(dir, "rules.yml")]));
    expect(outcome.code, outcome.out).toBe(0);
    expect(outcome.out).toContain("SUCCESS");
  });

  it("fires page and ticket alerts as the fan-in would: fast burn, slow burn, and too few events", async () => {
    const job = prometheusRules(DEFAULTS).groups[0]!.rules.filter((r) => "alert" in r);
    const expected = (severity: string) => {
      const rule = job.find((r) => "alert" in r && r.labels.severity === severity)!;
      return { exp_labels: { ...rule.labels }, exp_annotations: "annotations" in rule ? rule.annotations : {} };
    };
    const series = (perMinute: number, goodPerMinute: number) => [
      { series: 'sentinel_slo_events_total{slo="job-success"}', values: `0+${perMinute}x180` },
      { series: 'sentinel_slo_good_events_total{slo="job-success"}', values: `0+${goodPerMinute}x180` },
    ];
    const test = (inputSeries: unknown, alerts: unknown[]) => ({
      interval: "1m", input_series: inputSeries, alert_rule_test: [{ eval_time: "70m", alertname: ALERT_NAME, exp_alerts: alerts }],
    });
    const tests = {
      rule_files: ["rules.yml"],
      evaluation_interval: "1m",
      tests: [
        test(series(100, 70), [expected("page"), expected("ticket")]), // 30% errors: burn 30, past 14.4 and 3
        test(series(100, 95), [expected("ticket")]), // 5% errors: burn 5, past 3 only
        test(series(1, 0.5), []), // 50% errors but 70 events, under the 101-event guard of a 99% objective
      ],
    };
    const outcome = await inTempDir({ "rules.yml": prometheusRulesYaml(DEFAULTS), "tests.yml": toYaml(tests) }, (dir) => promtool(["test", "rules", join(dir, "tests.yml")]));
    expect(outcome.code, outcome.out).toBe(0);
    expect(outcome.out).toContain("SUCCESS");
  }, 30_000);

  it("alerts on a stalled sentinel and on a failing or blind probe, from outside the sentinel", async () => {
    const self = prometheusRules(DEFAULTS).groups.find((g) => g.name === "sentinel-self")!.rules as { alert: string; labels: Record<string, string>; annotations: Record<string, string> }[];
    const expected = (name: string, labels: Record<string, string> = {}) => {
      const rule = self.find((r) => r.alert === name)!;
      return { exp_labels: { ...rule.labels, ...labels }, exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, v.replace("{{ $labels.probe }}", labels.probe ?? "")])) };
    };
    const state = (probe: string, values: Record<string, string>) => Object.entries(values).map(([s, v]) => ({ series: `sentinel_probe_state{probe="${probe}",stage="queue",state="${s}"}`, values: v }));
    const tests = {
      rule_files: ["rules.yml"],
      evaluation_interval: "1m",
      tests: [
        // Ticks every minute for 10 minutes, then none: stalled once 5 minutes pass without one (not before).
        {
          interval: "1m",
          input_series: [{ series: "sentinel_last_tick_timestamp_seconds", values: "60+60x10 660x20" }],
          alert_rule_test: [
            { eval_time: "10m", alertname: SELF_ALERTS.stalled, exp_alerts: [] },
            { eval_time: "15m", alertname: SELF_ALERTS.stalled, exp_alerts: [] },
            { eval_time: "17m", alertname: SELF_ALERTS.stalled, exp_alerts: [expected(SELF_ALERTS.stalled)] },
          ],
        },
        // No tick metric at all (never scraped a tick): stalled too.
        { interval: "1m", input_series: [{ series: "up", values: "1x5" }], alert_rule_test: [{ eval_time: "3m", alertname: SELF_ALERTS.stalled, exp_alerts: [expected(SELF_ALERTS.stalled)] }] },
        // queue fails, outbox is blind, canary passes: one page for queue, one ticket for outbox.
        {
          interval: "1m",
          input_series: [...state("queue", { fail: "1x5", pass: "0x5" }), ...state("outbox", { error: "1x5", fail: "0x5" }), ...state("canary", { pass: "1x5", fail: "0x5" })],
          alert_rule_test: [
            { eval_time: "2m", alertname: SELF_ALERTS.probeFailing, exp_alerts: [expected(SELF_ALERTS.probeFailing, { probe: "queue", stage: "queue", state: "fail" })] },
            { eval_time: "2m", alertname: SELF_ALERTS.probeBlind, exp_alerts: [expected(SELF_ALERTS.probeBlind, { probe: "outbox", stage: "queue", state: "error" })] },
          ],
        },
      ],
    };
    const outcome = await inTempDir({ "rules.yml": prometheusRulesYaml(DEFAULTS), "tests.yml": toYaml(tests) }, (dir) => promtool(["test", "rules", join(dir, "tests.yml")]));
    expect(outcome.code, outcome.out).toBe(0);
    expect(outcome.out).toContain("SUCCESS");
  }, 30_000);

  it("npx beacon-sentinel export prometheus-rules --output writes rules promtool accepts, from SENTINEL_SETTINGS", async () => {
    const settings = JSON.stringify({ slos: [{ id: "only-one", title: "One", target: 0.9, sources: ["health:availability"] }] });
    const outcome = await inTempDir({}, async (dir) => {
      const file = join(dir, "sentinel.rules.yml");
      const { stderr } = await exec(process.execPath, ["netlify/bin/sentinel.mjs", "export", "prometheus-rules", "--output", file], { env: { ...process.env, SENTINEL_SETTINGS: settings }, timeout: 30_000 });
      expect(stderr).toContain(`wrote prometheus-rules to ${file}`);
      return promtool(["check", "rules", file]);
    });
    expect(outcome.code, outcome.out).toBe(0);
    expect(outcome.out).toContain(`SUCCESS: ${prometheusRules(loadSettings({ SENTINEL_SETTINGS: settings }).slos).groups.reduce((n, g) => n + g.rules.length, 0)} rules found`);
  }, 30_000);
});

describe("npx beacon-sentinel export prometheus-rules --stalled-after", () => {
  const cli = (...args: string[]) => exec(process.execPath, ["netlify/bin/sentinel.mjs", "export", ...args], { env: { ...process.env, SENTINEL_SETTINGS: "" }, timeout: 30_000 });

  it("writes the stall threshold it is given, and 5 minutes without it", async () => {
    expect((await cli("prometheus-rules")).stdout).toContain("sentinel_last_tick_timestamp_seconds > 300\n");
    expect((await cli("prometheus-rules", "--stalled-after", "10")).stdout).toContain("sentinel_last_tick_timestamp_seconds > 600\n");
  }, 30_000);

  it.each([["0"], ["-1"], ["ten"], ["1e3"], [""]])("refuses %j with exit 64, naming the flag", async (value) => {
    const failed = await cli("prometheus-rules", `--stalled-after=${value}`).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(failed?.code).toBe(64);
    expect(failed?.stderr).toContain(`--stalled-after must be a positive number of minutes (default 5), got "${value}"`);
  }, 30_000);

  it("refuses it for the dashboard, which has no stall rule", async () => {
    const failed = await cli("grafana-dashboard", "--stalled-after", "3").then(() => null, (e: { code: number; stderr: string }) => e);
    expect(failed?.code).toBe(64);
    expect(failed?.stderr).toContain("--stalled-after applies to prometheus-rules only");
  }, 30_000);
});

describe("the Grafana dashboard", () => {
  const dashboard = grafanaDashboard() as { panels: { id: number; type: string; gridPos: { x: number; w: number }; targets?: { expr: string; refId: string; datasource: { uid: string } }[] }[]; templating: { list: { query: { query: string } }[] }; __inputs: { name: string }[] };
  const emitted = new Set(parsePrometheusTextFormat(prometheusMetrics(fullDocument())).map((f) => f.name));
  const namesIn = (expr: string) => [...expr.matchAll(/\b(sentinel_[a-z0-9_:]+)/g)].map((m) => m[1]!);

  it("maps every state to its own colour: a stage no probe watches is grey (unknown), not red for ever", () => {
    const panels = (grafanaDashboard().panels as { title: string; targets?: { expr: string }[]; fieldConfig?: { defaults?: { mappings?: { options: Record<string, { text: string; color: string }> }[] } } }[]);
    for (const title of ["Overall state", "Stages", "Probe states"]) {
      const p = panels.find((x) => x.title === title)!;
      expect(p.fieldConfig?.defaults?.mappings?.[0]?.options, title).toEqual({
        "0": { text: "passing", color: "green", index: 0 }, "1": { text: "unknown", color: "#8e8e8e", index: 1 }, "2": { text: "degraded", color: "yellow", index: 2 },
        "3": { text: "blind", color: "orange", index: 3 }, "4": { text: "failing", color: "red", index: 4 },
      });
    }
    expect(panels.find((x) => x.title === "Stages")!.targets![0]!.expr).toBe(stateCodeExpr("sentinel_stage_state", "stage"));
  });

  it.skipIf(!HAVE_PROMTOOL)("its state queries give each stage's own state, evaluated by promtool", async () => {
    const stage = (id: string, on: string) => STATE_CODES.map((s) => ({ series: `sentinel_stage_state{job="sentinel",stage="${id}",state="${s.state}"}`, values: s.state === on ? "1x3" : "0x3" }));
    const tests = {
      rule_files: ["rules.yml"],
      evaluation_interval: "1m",
      tests: [{
        interval: "1m",
        input_series: [...stage("portal", "unknown"), ...stage("outbox", "pass"), ...stage("queue", "fail"), ...stage("worker", "warn"), ...stage("receipts", "error")],
        promql_expr_test: [{
          expr: stateCodeExpr("sentinel_stage_state", "stage"), eval_time: "2m",
          exp_samples: [["outbox", 0], ["portal", 1], ["worker", 2], ["receipts", 3], ["queue", 4]].map(([s, v]) => ({ labels: `{stage="${s}"}`, value: v })),
        }],
      }],
    };
    const outcome = await inTempDir({ "rules.yml": prometheusRulesYaml(DEFAULTS), "tests.yml": toYaml(tests) }, (dir) => promtool(["test", "rules", join(dir, "tests.yml")]));
    expect(outcome.code, outcome.out).toBe(0);
    expect(outcome.out).toContain("SUCCESS");
  }, 30_000);

  it("queries only metrics that /api/metrics emits", () => {
    const used = dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => namesIn(t.expr));
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((n) => !emitted.has(n))).toEqual([]);
    expect(namesIn(dashboard.templating.list[0]!.query.query).every((n) => emitted.has(n))).toBe(true);
  });

  it("is a well-formed dashboard: unique ids, panels within the 24-column grid, the data source as an import input", () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    const queries = dashboard.panels.filter((p) => p.type !== "row");
    expect(queries.every((p) => (p.targets ?? []).length > 0)).toBe(true);
    expect(queries.flatMap((p) => p.targets!).every((t) => t.datasource.uid === "${DS_PROMETHEUS}")).toBe(true);
    expect(dashboard.__inputs.map((i) => i.name)).toEqual(["DS_PROMETHEUS"]);
  });

  it("comes out of npx beacon-sentinel export grafana-dashboard as JSON", async () => {
    const { stdout } = await exec(process.execPath, ["netlify/bin/sentinel.mjs", "export", "grafana-dashboard"], { env: { ...process.env, SENTINEL_SETTINGS: "" }, timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(dashboard)));
  }, 30_000);
});
