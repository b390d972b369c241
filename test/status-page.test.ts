import { describe, expect, it } from "vitest";
import { buildStatusDocument, type ProbeInfo, type StatusSnapshot } from "../shared/status/document.ts";
import type { StoredSlos } from "../shared/status/slos.ts";
import { renderStatusPage } from "../shared/status/page.ts";
import { budgetText, num, runsText } from "../shared/status/format.ts";
import { inFlightEvidence } from "../shared/probes/canary/report.ts";
import { AlertState } from "../shared/alerting/state.ts";
import { check, type Check, type ProbeResult } from "../shared/result.ts";
import type { Incident } from "../shared/alerting/incidents.ts";
import { summaryView } from "../shared/status/public.ts";

/** What the status page says, as a person reads it: live ages, budgets, numbers, the sentinel's own health. */
const NOW = new Date("2026-05-01T12:00:00.000Z");
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const PROBES: ProbeInfo[] = [{ id: "canary", title: "Canary", stage: "receipts", schedule: "* * * * *", intervalMs: 60_000 }];

function canaryResult(checks: Check[], startedAgoS = 20): ProbeResult {
  return { version: 1, probe: "canary", status: checks.some((c) => c.status === "fail") ? "fail" : "pass", startedAt: ago(startedAgoS), durationMs: 300, checks };
}
const c = (name: string, status: Check["status"], message: string, extra: Partial<Check> = {}) => check({ name, status, observed: null, threshold: null, message, ...extra });

function page(over: Partial<StatusSnapshot>, now = NOW) {
  const snapshot: StatusSnapshot = { latest: { canary: null }, histories: {}, timelines: {}, slos: null, alerts: null, silences: [], ...over };
  return renderStatusPage(buildStatusDocument(snapshot, { now: new Date(NOW.getTime() - 20_000), probes: PROBES, staleFactor: 2 }), { now });
}

function slo(events: number, remaining: number): StoredSlos {
  const w = (minutes: number) => ({ minutes, good: Math.max(0, events - 1), total: events, errorRatio: events ? 1 / events : null, burnRate: events ? 1 / events / 0.001 : null });
  const budgetRemaining = events ? remaining : null;
  return { evaluatedAt: ago(30), slos: [{ id: "api-availability", title: "API available", target: 0.999, periodDays: 30, source: "health:availability", events,
    period: w(43_200), budgetRemaining, budgetRemainingMinutes: budgetRemaining === null ? null : budgetRemaining * 43.2, severity: null, alerts: [] }] };
}

describe("the status page, read by a person", () => {
  it("stuck-canary: shows the canary in flight with an age the page keeps current, not the age at the last run", () => {
    const submitted = ago(431);
    const html = page({ latest: { canary: canaryResult([
      c("canary", "pass", "canary sentinel-canary-1 in flight for 55 s, reached created", { observed: 55, evidence: [inFlightEvidence("sentinel-canary-1", submitted)] }),
      c("stage:created", "pass", "at 1 s", { observed: 1 }),
      c("stage:outbox", "fail", "55 s in created: no outbox row", { observed: null }),
      c("stage:published", "error", "not reached yet: canary sentinel-canary-1 is held at outbox"),
    ], 376) } });
    expect(html).toContain('data-inflight="yes"');
    expect(html).toMatch(new RegExp(`in flight for <strong><span class="age" data-since="${submitted}">7 min</span>`));
    expect(html).toMatch(/Last checked <span class="age" data-since="[^"]+">6 min<\/span> ago/);
    expect(html).toContain("stale: the canary runs every 60 s"); // 376 s without a run of a 1-minute probe
    expect(html).toContain("as the last check saw it, 55 s after submission");
    // The probe card lists the failure, and counts the stages behind it instead of listing each as blind.
    const card = /<li class="probe" id="probe-canary"[\s\S]*?<\/ul><\/li>/.exec(html)![0];
    expect(card).toContain("<strong>stage:outbox</strong>: 55 s in created: no outbox row");
    expect(card).toContain("1 more not measured behind the failure: stage:published");
    expect(card).not.toContain("<strong>stage:published</strong>");
  });

  it("idle-canary: says what the canary check says, with no in-flight age", () => {
    const html = page({ latest: { canary: canaryResult([c("canary", "pass", "idle: last canary passed every stage; next in 9 min"), c("stage:created", "pass", "at 1 s", { observed: 1 })]) } });
    expect(html).toContain('data-inflight="no"');
    expect(html).toContain("idle: last canary passed every stage; next in 9 min");
  });

  it.each([
    ["fresh-store-four-minutes-into-an-incident", 5, -199, "not enough data yet (5 of 100 events)"],
    ["no-events", 0, 1, "no events yet"],
    ["enough-events-overspent", 1000, -0.4, "overspent by 40% (17 min)"],
    ["enough-events-left", 1000, 0.625, "62.5% left (27 min)"],
  ] as const)("budget: %s", (_rule, events, remaining, words) => {
    const html = page({ slos: slo(events, remaining) });
    expect(html).toContain(words);
    expect(html).not.toMatch(/-\d{3,}(\.\d+)?%/);
  });

  it("formats measurements for people: no raw 0.07407407407407407", () => {
    const alerts = AlertState.parse({ alerts: { "check/canary/stage:outbox": { key: "check/canary/stage:outbox", type: "check", stage: "receipts", probe: "canary", check: "stage:outbox",
      severity: "page", firing: true, since: ago(300), notified: true, snapshot: { title: "traffic: 5xx-ratio", message: "2 of 27 requests answered 5xx", observed: 2 / 27, threshold: "<= 0.05", evidence: [], evidenceTotal: 0 } } } });
    const html = page({ alerts });
    expect(html).toContain("observed 0.0741 against &lt;= 0.05");
    expect(html).not.toContain("0.07407407");
    expect(num(1234.5678)).toBe("1235");
    expect(num(12.345)).toBe("12.3");
    expect(runsText([{ start: NOW.toISOString(), state: "pass", runs: 14, notPassing: 0, meanMs: 1, maxMs: 1 }])).toBe("24 h: 14 runs, all passing");
    expect(budgetText({ budgetRemaining: null, budgetRemainingMinutes: null, events: 0 })).toBe("no events yet");
  });

  it.each([
    ["on-time: the warning is there for the script, hidden", ago(30), false],
    ["past-next-tick-plus-grace: stalled", ago(61 + 60), true],
  ] as const)("monitoring: %s", (_rule, nextTickBy, stalled) => {
    const monitoring = { lastTickAt: ago(120), ticks: 42, lostResults: 3, gaps: [{ from: ago(3600), to: ago(3400), missedRuns: 3 }], failedSends: 1, unknownDeliveries: 0,
      collapsedNotifications: 0, channels: {}, pendingNotifications: 2, nextTickBy };
    const html = page({ monitoring });
    const warning = /<p class="stalled"[^>]*>/.exec(html)![0];
    expect(warning.includes(" hidden")).toBe(!stalled);
    expect(warning).toContain(`data-stalled-after="${new Date(Date.parse(nextTickBy) + 60_000).toISOString()}"`);
    expect(html).toContain("42 ticks recorded");
    // Not "lost": a sentinel stopped on purpose misses runs too, and nothing it measured was thrown away.
    expect(html).toContain("Probe runs missed (no tick ran, or none could store its results; a deliberate stop counts too): 3");
    expect(html).toContain("2 pending, 1 failed send (retried)");
    expect(html).toMatch(/data-state="(error|warn)"/);
  });

  it("monitoring: says so when the document has no record yet", () => {
    expect(page({})).toContain("No record yet of the sentinel's own ticks");
  });

  /** The n-th incident: fired 13 - n hours ago, resolved 10 min later (the 12th still open), 2 job ids listed and 3 more counted. */
  function incidentNo(n: number): Incident {
    const firedAt = ago(3600 * (13 - n));
    return {
      id: String(n), key: "check/outbox/jobs-stuck-created", type: "check", stage: "outbox", probe: "outbox", check: "jobs-stuck-created", severity: n % 2 ? "ticket" : "page",
      title: `Jobs stuck in created (${n})`, firedAt, openedAt: firedAt, ...(n === 12 ? {} : { resolvedAt: new Date(Date.parse(firedAt) + 600_000).toISOString() }),
      held: ["check/queue/depth"], sends: [{ channel: "slack", state: "firing", phase: "sent", at: firedAt, decidedAt: firedAt, key: "slack-key-secret" }],
      jobs: [`job-secret-${n}-a`, `job-secret-${n}-b`], jobsMore: 3,
    };
  }

  it("recent incidents: the 10 newest, newest first, each with its duration, jobs touched and a link to its story; no job id", () => {
    const incidents = Array.from({ length: 12 }, (_, i) => incidentNo(i + 1));
    const alerts = AlertState.parse({ alerts: { "check/outbox/jobs-stuck-created": { key: "check/outbox/jobs-stuck-created", type: "check", stage: "outbox", probe: "outbox",
      check: "jobs-stuck-created", severity: "page", firing: true, since: ago(3600), snapshot: { title: "Jobs stuck in created", message: "2 jobs stuck", observed: 2, threshold: 0,
        evidence: ["job job-secret-12-a: in created for 3601 s"], evidenceTotal: 1 } } } });
    const doc = buildStatusDocument({ latest: { canary: null }, histories: {}, timelines: {}, slos: null, alerts, silences: [], incidents }, { now: NOW, probes: PROBES, staleFactor: 2 });
    expect(doc.recentIncidents!.map((i) => i.id)).toEqual(["12", "11", "10", "9", "8", "7", "6", "5", "4", "3"]);
    // Compact: about 250 bytes an incident, whatever its story holds.
    expect(JSON.stringify(doc.recentIncidents).length).toBeLessThan(10 * 300);
    for (const [view, html] of [["full", renderStatusPage(doc, { now: NOW })], ["summary", renderStatusPage(summaryView(doc), { now: NOW })]] as const) {
      const section = /<section aria-labelledby="recent-h">[\s\S]*?<\/section>/.exec(html)![0];
      expect([...section.matchAll(/data-incident="(\d+)"/g)].map((m) => m[1]), view).toEqual(["12", "11", "10", "9", "8", "7", "6", "5", "4", "3"]);
      const row = (id: string) => new RegExp(`<tr data-incident="${id}">[\\s\\S]*?</tr>`).exec(section)![0];
      expect(row("11")).toContain('<a href="/api/incidents/11">#11 Jobs stuck in created (11)</a>');
      expect(row("11")).toContain('<td data-label="Severity">ticket</td><td data-label="Stage">outbox</td><td data-label="Fired">2026-05-01 10:00 UTC</td>');
      expect(row("11")).toContain('<td data-label="Resolved">2026-05-01 10:10 UTC</td><td data-label="Lasted">10 min</td>');
      expect(row("11")).toContain('<td data-label="Jobs touched">5</td>');
      // The open one: ongoing, its duration kept moving by the page's script.
      expect(row("12")).toContain('<td data-label="Resolved"><strong>ongoing</strong></td><td data-label="Lasted"><span class="age" data-since="2026-05-01T11:00:00.000Z">60 min</span> so far</td>');
      expect(section).not.toContain("job-secret");
      expect(section).not.toContain("slack-key-secret");
      expect(section).not.toContain("check/queue/depth");
    }
    // The firing alert's evidence names a job on the full page; the public page names none anywhere.
    expect(renderStatusPage(doc, { now: NOW })).toContain("job-secret-12-a");
    expect(renderStatusPage(summaryView(doc), { now: NOW })).not.toContain("job-secret");
  });

  it("recent incidents: says none yet when the ledger has none, and draws nothing for a document written before it carried them", () => {
    expect(page({ incidents: [] })).toContain('<h2 id="recent-h">Recent incidents</h2><p>No incident recorded yet.</p>');
    expect(page({})).not.toContain("Recent incidents");
  });
});
