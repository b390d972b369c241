import { describe, expect, it } from "vitest";
import { buildStatusDocument, type ProbeInfo, type StatusSnapshot } from "../shared/status/document.ts";
import { stageOfCheck } from "../shared/probes/catalog.ts";
import { shieldsBadge } from "../shared/status/badge.ts";
import { check, type Check, type CheckStatus, type ProbeResult } from "../shared/result.ts";
import { AlertState } from "../shared/alerting/state.ts";

/** Cards follow the stage a check is about, not the home stage of the probe that ran it. */
const NOW = new Date("2026-05-01T12:00:00.000Z");
const MIN = 60_000;
const PROBES: ProbeInfo[] = [
  { id: "health", title: "Service health", stage: "runner-api", schedule: "* * * * *", intervalMs: MIN },
  { id: "outbox", title: "Outbox and stuck jobs", stage: "outbox", schedule: "*/2 * * * *", intervalMs: 2 * MIN },
  { id: "queue", title: "Queue", stage: "queue", schedule: "* * * * *", intervalMs: MIN },
  { id: "receipts", title: "Receipts", stage: "receipts", schedule: "*/3 * * * *", intervalMs: 3 * MIN },
  { id: "traffic", title: "Traffic", stage: "worker", schedule: "*/5 * * * *", intervalMs: 5 * MIN },
  { id: "canary", title: "Canary", stage: "receipts", schedule: "* * * * *", intervalMs: MIN },
];
const CANARY = ["stage:accepted", "stage:created", "stage:outbox", "stage:published", "stage:queued", "stage:processing", "stage:started", "stage:completed", "stage:receipt",
  "regression:left-created", "regression:id-populated", "regression:questions-answered", "regression:both-apis", "canary"];
const NAMES: Record<string, string[]> = {
  health: ["runner-health", "runner-ready", "database", "redis"],
  outbox: ["outbox-backlog", "jobs-stuck-created", "jobs-stuck-queued", "jobs-stuck-processing", "clock-skew"],
  queue: ["queue-depth", "message-contract"],
  receipts: ["executions-api", "jobs-api", "id-mapping", "receipts", "job-answers"],
  traffic: ["scrape", "requests", "5xx-ratio", "job-success", "queue-latency"],
  canary: CANARY,
};

/** Every probe passing, except the checks named in `bad`. */
function results(bad: Record<string, CheckStatus>): Record<string, ProbeResult> {
  return Object.fromEntries(PROBES.map((p) => {
    const checks: Check[] = NAMES[p.id]!.map((name) => check({ name, status: bad[`${p.id}/${name}`] ?? "pass", observed: 1, threshold: 0, message: name }));
    const status = checks.some((c) => c.status === "fail") ? "fail" : checks.some((c) => c.status === "error") ? "error" : "pass";
    return [p.id, { version: 1, probe: p.id, status, startedAt: NOW.toISOString(), durationMs: 100, checks }];
  }));
}

function doc(bad: Record<string, CheckStatus>, alerts: AlertState | null = null) {
  const snapshot: StatusSnapshot = { latest: results(bad), histories: {}, timelines: {}, slos: null, alerts, silences: [] };
  return buildStatusDocument(snapshot, { now: NOW, probes: PROBES, staleFactor: 2 });
}

const notPassing = (d: ReturnType<typeof doc>) => Object.fromEntries(d.stages.filter((s) => s.state !== "pass" && s.probes.length).map((s) => [s.id, s.state]));

describe("which stage a check lands on", () => {
  it.each([
    // The canary stuck with no outbox row: its outbox stage and the regression that restates it, on Outbox only.
    ["canary-outbox-failure-lands-on-outbox", { "canary/stage:outbox": "fail", "canary/regression:left-created": "fail", "canary/stage:published": "error", "canary/stage:queued": "error",
      "canary/stage:processing": "error", "canary/stage:started": "error", "canary/stage:completed": "error", "canary/stage:receipt": "error" }, { outbox: "fail" }],
    ["canary-queue-failure-lands-on-queue", { "canary/stage:queued": "fail", "canary/stage:processing": "error" }, { queue: "fail" }],
    ["canary-processing-failure-lands-on-worker", { "canary/stage:processing": "fail" }, { worker: "fail" }],
    ["canary-receipt-failure-lands-on-receipts", { "canary/stage:receipt": "fail", "canary/regression:questions-answered": "fail" }, { receipts: "fail" }],
    ["canary-refused-lands-on-the-runner-api", { "canary/stage:accepted": "fail" }, { "runner-api": "fail" }],
    ["traffic-5xx-lands-on-the-runner-api-not-worker", { "traffic/5xx-ratio": "fail" }, { "runner-api": "fail" }],
    ["executions-500-lands-on-the-runner-api", { "receipts/executions-api": "fail", "traffic/5xx-ratio": "fail" }, { "runner-api": "fail" }],
    ["traffic-job-failures-land-on-worker", { "traffic/job-success": "fail" }, { worker: "fail" }],
    ["jobs-stuck-queued-lands-on-queue", { "outbox/jobs-stuck-queued": "fail" }, { queue: "fail" }],
    ["health-database-lands-on-database", { "health/database": "fail" }, { database: "fail" }],
    // A probe that could not measure a check about another stage is blind on its own stage.
    ["blindness-stays-home", { "traffic/5xx-ratio": "error", "traffic/job-success": "error" }, { worker: "error" }],
  ] as const)("%s", (_rule, bad, expected) => {
    const d = doc(bad as Record<string, CheckStatus>);
    expect(notPassing(d)).toEqual(expected);
  });

  it("names the probe and the check on the stage's card", () => {
    const d = doc({ "canary/stage:outbox": "fail", "outbox/jobs-stuck-created": "fail" });
    expect(d.stages.find((s) => s.id === "outbox")!.message).toBe("Outbox and stuck jobs: jobs-stuck-created failing; Canary: stage:outbox failing");
    expect(d.stages.find((s) => s.id === "receipts")!.message).toBe("all checks pass");
  });

  it("places a firing check alert on the check's stage, as the card does", () => {
    expect(stageOfCheck("canary", "receipts", "stage:outbox")).toBe("outbox");
    expect(stageOfCheck("health", "runner-api", "url:portal")).toBe("portal");
    expect(stageOfCheck("newprobe", "queue", "anything")).toBe("queue");
  });
});

describe("never greener than the alerts", () => {
  const firing = (key: string, type: "check" | "missing" | "blind", severity: "page" | "ticket", probe: string, checkName?: string) => AlertState.parse({
    alerts: { [key]: { key, type, stage: "receipts", probe, check: checkName, severity, firing: true, since: NOW.toISOString(), notified: true,
      snapshot: { title: key, message: "m", observed: null, threshold: null, evidence: [], evidenceTotal: 0 } } },
  });

  it.each([
    ["a-paging-check-alert-still-firing-fails-the-badge", firing("check/canary/stage:outbox", "check", "page", "canary", "stage:outbox"), "fail", "failing"],
    ["a-missing-probe-alert-makes-it-blind", firing("missing/queue", "missing", "page", "queue"), "error", "blind"],
    ["a-ticket-degrades", firing("check/queue/queue-depth", "check", "ticket", "queue", "queue-depth"), "warn", "degraded"],
  ] as const)("%s", (_rule, alerts, state, word) => {
    const d = doc({}, alerts);
    expect(d.stages.every((s) => s.state !== "fail")).toBe(true); // every probe passes again...
    expect(d.overall.state).toBe(state); // ...but the alert still stands
    expect(d.overall.message).toMatch(/still firing/);
    expect(shieldsBadge(d).message).toBe(word);
  });

  it("reports the alert on the check's stage", () => {
    const d = doc({}, firing("check/canary/stage:outbox", "check", "page", "canary", "stage:outbox"));
    expect(d.alerts.firing[0]!.stage).toBe("outbox");
  });
});
