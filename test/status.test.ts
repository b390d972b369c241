import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { buildStatusDocument, stageOrder } from "../shared/status/document.ts";
import type { ProbeInfo, StatusSnapshot } from "../shared/status/document.ts";
import type { StoredSlos } from "../shared/status/slos.ts";
import { StatusDocument } from "../shared/status/schema.ts";
import { buildTimeline } from "../shared/status/timeline.ts";
import { prometheusMetrics } from "../shared/status/metrics.ts";
import { shieldsBadge } from "../shared/status/badge.ts";
import { PAGE_CSP, renderStatusPage } from "../shared/status/page.ts";
import { check, type CheckStatus, type ProbeResult } from "../shared/result.ts";
import { ProbeMemory, remember } from "../shared/tick/state.ts";
import { AlertState } from "../shared/alerting/state.ts";

const NOW = new Date("2026-05-01T12:00:00.000Z");
const MIN = 60_000;
const at = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * MIN).toISOString();

const PROBES: ProbeInfo[] = [
  { id: "health", title: "Service health", stage: "runner-api", schedule: "* * * * *", intervalMs: MIN },
  { id: "outbox", title: "Outbox and stuck jobs", stage: "outbox", schedule: "*/2 * * * *", intervalMs: 2 * MIN },
  { id: "queue", title: "Queue", stage: "queue", schedule: "* * * * *", intervalMs: MIN },
];

function result(probe: string, status: CheckStatus, minutesAgo = 0, checks = [check({ name: "c", status, observed: 1, threshold: 0, message: `c is ${status}` })]): ProbeResult {
  return { version: 1, probe, status, startedAt: at(minutesAgo), durationMs: 120, checks };
}

function snapshot(over: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    latest: { health: result("health", "pass"), outbox: result("outbox", "pass"), queue: result("queue", "pass") },
    histories: {}, timelines: {}, slos: null, alerts: null, silences: [], ...over,
  };
}

const build = (s: StatusSnapshot, historyCount = 5) => buildStatusDocument(s, { now: NOW, probes: PROBES, staleFactor: 2, historyCount });

function slos(severity: "page" | "ticket" | null): StoredSlos {
  const w = (minutes: number, ratio: number | null) => ({ minutes, good: 990, total: 1000, errorRatio: ratio, burnRate: ratio === null ? null : ratio / 0.01 });
  return {
    evaluatedAt: at(1),
    slos: [{
      id: "job-success", title: "Jobs complete successfully", target: 0.99, periodDays: 30, source: "traffic:jobs", events: 1000,
      period: w(43_200, 0.01), budgetRemaining: 0, budgetRemainingMinutes: 0, severity,
      alerts: [{ severity: "page", factor: 14.4, long: w(60, 0.2), short: w(5, 0.2), firing: severity === "page", guarded: false }],
    }],
  };
}

describe("the status document", () => {
  it.each([
    ["all-probes-pass: overall passes", {}, "pass", /all 3 watched stages passing/],
    ["one-stage-fails: overall fails and names the stage", { latest: { ...snapshot().latest, outbox: result("outbox", "fail") } }, "fail", /Outbox failing/],
    ["blind-probe: overall is blind (error)", { latest: { ...snapshot().latest, queue: result("queue", "error") } }, "error", /Queue blind/],
    ["stale-probe: results stopped coming, so blind", { latest: { ...snapshot().latest, health: result("health", "pass", 3) } }, "error", /Runner API blind/],
    ["fail-outranks-blind", { latest: { ...snapshot().latest, queue: result("queue", "error"), outbox: result("outbox", "fail") } }, "fail", /Outbox failing; Queue blind/],
    ["degraded-probe: warn", { latest: { ...snapshot().latest, queue: result("queue", "warn") } }, "warn", /Queue degraded/],
    ["no-results-yet: unknown", { latest: { health: null, outbox: null, queue: null } }, "unknown", /no probe results yet/],
    ["slo-page-burning: fails though every probe passes", { slos: slos("page") }, "fail", /SLO job-success burning its error budget \(page\)/],
    ["slo-ticket-burning: degraded", { slos: slos("ticket") }, "warn", /SLO job-success/],
  ] as const)("%s", (_rule, over, state, message) => {
    const doc = build(snapshot(over as Partial<StatusSnapshot>));
    expect(StatusDocument.safeParse(doc).success).toBe(true);
    expect(doc.overall.state).toBe(state);
    expect(doc.overall.message).toMatch(message);
  });

  it("draws the pipeline in order, with unwatched stages unknown", () => {
    const doc = build(snapshot({ latest: { ...snapshot().latest, outbox: result("outbox", "fail") } }));
    expect(doc.stages.map((s) => [s.id, s.state])).toEqual([
      // database: health's `database` and outbox's `clock-skew` land there; these results carry neither.
      ["portal", "unknown"], ["runner-api", "pass"], ["database", "unknown"], ["outbox", "fail"], ["queue", "pass"], ["worker", "unknown"], ["receipts", "unknown"],
    ]);
    expect(doc.stages[0]!.message).toBe("no probe watches this stage");
    expect(doc.stages[3]!.message).toBe("Outbox and stuck jobs: c failing");
    expect(stageOrder([...PROBES, { ...PROBES[0]!, id: "db", stage: "database" }])).toEqual(
      ["portal", "runner-api", "database", "outbox", "queue", "worker", "receipts"]);
  });

  it("marks a stale probe and says for how long it has been silent", () => {
    const doc = build(snapshot({ latest: { ...snapshot().latest, outbox: result("outbox", "pass", 10) } }));
    const outbox = doc.probes.find((p) => p.id === "outbox")!;
    expect(outbox).toMatchObject({ stale: true, state: "error", ageSeconds: 600, intervalSeconds: 120 });
    expect(doc.stages.find((s) => s.id === "outbox")!.message).toBe("Outbox and stuck jobs: no result for 10 min (expected every 2 min)");
  });

  /** The tick's memory after these results arrived (at NOW). */
  const memoryOf = (results: ProbeResult[]) => results.reduce((m, r) => remember(m, r, undefined, NOW.getTime()), ProbeMemory.parse({}));

  it("keeps the newest history entries, and folds a day into 96 timeline slots", () => {
    const runs = [6, 5, 4, 3, 2, 1, 0].map((m) => ({ ...result("health", m === 3 ? "fail" : "pass", m), durationMs: 100 + m }));
    const memory = memoryOf(runs);
    const doc = build(snapshot({ histories: { health: memory.history }, timelines: { health: memory.timeline } }), 3);
    const health = doc.probes.find((p) => p.id === "health")!;
    expect(health.history.map((e) => e.t)).toEqual([at(0), at(1), at(2)]);
    expect(health.timeline).toHaveLength(96);
    // Slots sit on a fixed 15-minute grid: NOW (12:00) opens the last one, the six runs before it fill the one before.
    expect(health.timeline.at(-1)).toMatchObject({ start: at(0), state: "pass", runs: 1, notPassing: 0, meanMs: 100, maxMs: 100 });
    expect(health.timeline.at(-2)).toMatchObject({ start: at(15), state: "fail", runs: 6, notPassing: 1, meanMs: 104, maxMs: 106 }); // 101..106: 621 ms over 6 runs
    expect(health.timeline[0]).toMatchObject({ state: "unknown", runs: 0, meanMs: null });
    // A slot keeps six numbers however many runs it holds: the durations are rolled up, not listed.
    expect(memory.timeline.at(-2)).toEqual({ i: Math.floor(Date.parse(at(15)) / (15 * 60_000)), s: "fail", r: 6, n: 1, t: 621, x: 106 });
  });

  it("reads a timeline slot stored before the roll-up, with every duration listed, as its total and longest", () => {
    const old = ProbeMemory.parse({ timeline: [{ i: 5, s: "pass", r: 3, n: 0, d: [10, 30, 20] }] });
    expect(old.timeline).toEqual([{ i: 5, s: "pass", r: 3, n: 0, t: 60, x: 30 }]);
  });

  it.each([
    ["results-older-than-a-day-are-dropped", [24 * 60 + 15], 0],
    ["results-from-the-future-are-not-drawn", [-20], 0],
    ["a-result-in-the-first-slot-counts", [24 * 60 - 15], 1],
    ["one-slot-holds-every-run-in-its-15-minutes", [0, 0, 0], 3],
  ] as const)("timeline: %s", (_rule, minutesAgo, runs) => {
    const memory = memoryOf(minutesAgo.map((m) => result("health", "pass", m)));
    expect(buildTimeline(memory.timeline, NOW).reduce((n, slot) => n + slot.runs, 0)).toBe(runs);
  });

  it("lists firing alerts page-first with their evidence, and only current or upcoming silences", () => {
    const alerts = AlertState.parse({
      alerts: {
        a: { key: "slo/x", type: "slo", stage: "slo", slo: "x", firing: true, since: at(30), severity: "ticket", snapshot: { title: "SLO x", message: "burning", observed: 2, threshold: 1, evidence: [], evidenceTotal: 0 } },
        b: { key: "check/outbox/c", type: "check", stage: "outbox", probe: "outbox", check: "c", firing: true, since: at(5), severity: "page", snapshot: { title: "outbox c", message: "stuck", observed: 1, threshold: 0, evidence: ["job j1"], evidenceTotal: 3, nextStep: "republish" } },
        c: { key: "check/queue/c", type: "check", stage: "queue", firing: false, snapshot: { title: "q", message: "ok", observed: 0, threshold: 0, evidence: [], evidenceTotal: 0 } },
      },
    });
    const silence = (id: string, from: number, to: number) => ({ id, matcher: { probe: "queue" }, startsAt: at(from), endsAt: at(to), createdBy: "ops", comment: "", createdAt: at(100) });
    const doc = build(snapshot({ alerts, silences: [silence("old", 60, 30), silence("now", 10, -10), silence("later", -10, -20)] }));
    expect(doc.alerts.firing.map((a) => [a.key, a.severity, a.evidence, a.evidenceTotal, a.nextStep])).toEqual([
      ["check/outbox/c", "page", ["job j1"], 3, "republish"], ["slo/x", "ticket", [], 0, undefined],
    ]);
    expect(doc.alerts.silences.map((s) => [s.id, s.active])).toEqual([["now", true], ["later", false]]);
  });

  it("shows each SLO's windows, period first, with error ratio, burn rate, source and events", () => {
    const doc = build(snapshot({ slos: slos(null) }));
    expect(doc.slos.evaluatedAt).toBe(at(1));
    expect(doc.slos.items[0]).toMatchObject({ id: "job-success", source: "traffic:jobs", events: 1000, budgetRemaining: 0 });
    expect(doc.slos.items[0]!.windows.map((w) => [w.window, w.errorRatio, w.burnRate])).toEqual([["30d", 0.01, 1], ["5m", 0.2, 20], ["1h", 0.2, 20]]);
  });
});

describe("the badge", () => {
  it.each([
    ["pass", "operational", "brightgreen"], ["warn", "degraded", "yellow"], ["fail", "failing", "red"], ["error", "blind", "orange"], ["unknown", "unknown", "lightgrey"],
  ] as const)("%s reads %s", (state, message, color) => {
    const doc = { ...build(snapshot()), overall: { state, message: "" } };
    expect(shieldsBadge(doc)).toEqual({ schemaVersion: 1, label: "beacon pipeline", message, color, cacheSeconds: 300 });
  });
});

describe("the Prometheus exposition", () => {
  const doc = build(snapshot({ slos: slos("page"), latest: { ...snapshot().latest, outbox: result("outbox", "fail", 0, [check({ name: 'we"ird\\name\n', status: "fail", observed: 1, threshold: 0, message: "" })]) } }));
  const text = prometheusMetrics(doc);
  const families = Object.fromEntries(parsePrometheusTextFormat(text).map((f) => [f.name, f]));

  it("parses, and every family is a documented gauge", () => {
    expect(Object.values(families).length).toBeGreaterThan(10);
    for (const f of Object.values(families)) {
      expect(f.type).toBe("GAUGE");
      expect(f.help.length).toBeGreaterThan(0);
    }
  });

  it("carries probe states, durations, SLIs per window, burn rates and budgets", () => {
    const value = (name: string, labels: Record<string, string>) =>
      families[name]?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
    expect(value("sentinel_probe_state", { probe: "outbox", state: "fail" })).toBe("1");
    expect(value("sentinel_probe_state", { probe: "outbox", state: "pass" })).toBe("0");
    expect(value("sentinel_probe_duration_seconds", { probe: "health" })).toBe("0.12");
    expect(value("sentinel_stage_state", { stage: "portal", state: "unknown" })).toBe("1");
    expect(value("sentinel_slo_sli", { slo: "job-success", window: "30d" })).toBe("0.99");
    expect(value("sentinel_slo_burn_rate", { slo: "job-success", window: "1h" })).toBe("20");
    expect(value("sentinel_slo_error_budget_remaining_ratio", { slo: "job-success" })).toBe("0");
    expect(value("sentinel_overall_state", { state: "fail" })).toBe("1");
    expect(value("sentinel_check_passing", { probe: "outbox", check: 'we"ird\\name\n' })).toBe("0");
  });

  it("keeps each family's samples together, as the format requires", () => {
    const names = text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(/[{ ]/)[0]!);
    const runs = names.filter((n, i) => n !== names[i - 1]);
    expect(runs).toEqual([...new Set(runs)]);
  });

  it("escapes label values", () => {
    expect(text).toContain('check="we\\"ird\\\\name\\n"');
  });

  it("leaves out windows without events instead of reporting zero errors", () => {
    const empty = slos(null);
    empty.slos[0]!.period = { minutes: 43_200, good: 0, total: 0, errorRatio: null, burnRate: null };
    const out = prometheusMetrics(build(snapshot({ slos: empty })));
    expect(out).not.toMatch(/sentinel_slo_sli\{slo="job-success",window="30d"\}/);
    expect(out).toMatch(/sentinel_slo_sli\{slo="job-success",window="1h"\} 0.8/);
  });
});

describe("the status page", () => {
  const hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>';
  const doc = build(snapshot({
    slos: slos("page"),
    latest: {
      ...snapshot().latest,
      outbox: result("outbox", "fail", 0, [check({ name: "jobs-stuck-created", status: "fail", observed: 1, threshold: 0, message: hostile, evidence: [`job ${hostile}`] })]),
      queue: result("queue", "pass", 0, [
        check({ name: "stage:submit", status: "pass", observed: 0.12, threshold: "<= 8 s", message: "" }),
        check({ name: "stage:execute", status: "fail", observed: 150, threshold: "<= 120 s", message: "slow executor" }),
      ]),
    },
  }));
  const html = renderStatusPage(doc);

  it("escapes everything that comes from probed systems", () => {
    expect(html).not.toContain(hostile);
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it("is self-contained: no external asset, one inline script allowed by the CSP's hash", () => {
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\s/i);
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(PAGE_CSP).toContain(`'sha256-${createHash("sha256").update(script).digest("base64")}'`);
    expect(PAGE_CSP).toContain("default-src 'none'");
  });

  it("draws every stage in order with its state in words, not only colour", () => {
    const stages = [...html.matchAll(/data-stage="([^"]+)" data-state="([^"]+)"/g)].map((m) => [m[1], m[2]]);
    expect(stages).toEqual(doc.stages.map((s) => [s.id, s.state]));
    expect(html).toMatch(/data-stage="outbox" data-state="fail">[\s\S]*?<span class="word">Failing<\/span>/);
  });

  it("gives every picture a text alternative and shows error budgets and canary stage timings", () => {
    const svgs = html.match(/<svg [^>]*>/g) ?? [];
    expect(svgs.length).toBe(PROBES.length * 2);
    for (const svg of svgs) expect(svg).toMatch(/role="img" aria-label="[^"]{10,}"/);
    expect(html).toContain('<div class="bar" role="img" aria-label="0% of the error budget left"><span class="fill f-fail" style="width:0.0%">');
    expect(html).toMatch(/Stage timings[\s\S]*submit[\s\S]*at 0.1 s · Passing[\s\S]*execute[\s\S]*at 3 min · Failing[\s\S]*slow executor/);
    expect(html).toContain("Active incidents (0)");
  });
});
