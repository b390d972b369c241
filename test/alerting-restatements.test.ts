import { describe, expect, it } from "vitest";
import { evaluateAlerts } from "../shared/alerting/evaluate.ts";
import { AlertingSettings } from "../shared/alerting/settings.ts";
import { emptyState, type AlertState } from "../shared/alerting/state.ts";
import { check, type CheckStatus, type ProbeResult } from "../shared/result.ts";

/**
 * One cause, one alert: the canary's regression checks that restate a failed stage are held behind
 * that stage. Fed through the real alert evaluation, one canary run per minute, with the default rule
 * (3 failures in 5 runs fire, 2 passes in a row resolve).
 */
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const at = (minute: number) => new Date(T0 + minute * 60_000);
const settings = AlertingSettings.parse({});
const probes = [{ id: "canary", stage: "receipts", title: "Canary", intervalMs: 60_000 }, { id: "health", stage: "runner-api", title: "Health", intervalMs: 60_000 }];
const STAGES = ["accepted", "created", "outbox", "published", "queued", "processing", "started", "completed", "receipt"];

/** A canary run: every stage and regression passing but the ones named. */
function canary(minute: number, bad: Record<string, CheckStatus>): ProbeResult {
  const names = [...STAGES.map((s) => `stage:${s}`), "regression:left-created", "regression:id-populated", "regression:questions-answered"];
  const checks = names.map((name) => check({ name, status: bad[name] ?? "pass", observed: null, threshold: null, message: bad[name] ? `${name} ${bad[name]}` : "ok" }));
  return { version: 1, probe: "canary", status: checks.some((c) => c.status === "fail") ? "fail" : "pass", startedAt: at(minute).toISOString(), durationMs: 5, checks };
}
const health = (minute: number): ProbeResult => ({ version: 1, probe: "health", status: "pass", startedAt: at(minute).toISOString(), durationMs: 5,
  checks: [check({ name: "runner-health", status: "pass", observed: 200, threshold: null, message: "ok" })] });

function play(runs: Record<string, CheckStatus>[]) {
  let state: AlertState = emptyState();
  const sent: string[] = [];
  runs.forEach((bad, minute) => {
    const out = evaluateAlerts({ state, results: [canary(minute, bad), health(minute)], slos: [], probes, silences: [], settings, now: at(minute) });
    state = out.state;
    for (const n of out.notifications) sent.push(`${minute}:${n.kind}:${n.alertKey}`);
  });
  return { sent, state };
}

const outboxStuck = { "stage:outbox": "fail", "regression:left-created": "fail", "stage:published": "error", "stage:receipt": "error" } as const;

describe("one cause, one alert", () => {
  it("no-outbox-row: stage:outbox and regression:left-created page once, for the stage; the restatement resolves unannounced", () => {
    const { sent, state } = play([outboxStuck, outboxStuck, outboxStuck, outboxStuck, {}, {}]);
    expect(sent).toEqual(["2:firing:check/canary/stage:outbox", "5:resolved:check/canary/stage:outbox"]);
    expect(state.log.map((l) => l.text)).toEqual(expect.arrayContaining([
      "check/canary/regression:left-created firing, held by dependency:check/canary/stage:outbox",
      "check/canary/regression:left-created resolved without having been announced (held by dependency:check/canary/stage:outbox)",
    ]));
  });

  it("while held, the status document shows the restatement as firing and why it is quiet", () => {
    const { state } = play([outboxStuck, outboxStuck, outboxStuck]);
    expect(state.alerts["check/canary/regression:left-created"]).toMatchObject({ firing: true, heldBy: "dependency:check/canary/stage:outbox", stage: "outbox" });
    expect(state.alerts["check/canary/stage:outbox"]).toMatchObject({ firing: true, notified: true, stage: "outbox" });
  });

  it("worker-stopped: left-created fails a run before the processing stage does, and still only the stage pages", () => {
    const early = { "regression:left-created": "fail" } as const; // 31 s in created; processing's 60 s budget not yet spent
    const stuck = { "regression:left-created": "fail", "stage:processing": "fail", "stage:started": "error" } as const;
    const { sent } = play([early, stuck, stuck, stuck, stuck]);
    expect(sent).toEqual(["3:firing:check/canary/stage:processing"]);
  });

  it("a regression that restates no failed stage is its own cause and pages", () => {
    const late = { "regression:left-created": "fail" } as const; // left created late, every stage within budget
    expect(play([late, late, late]).sent).toEqual(["2:firing:check/canary/regression:left-created"]);
  });

  it("a regression outside the restatements (id-populated) pages alongside a failed stage", () => {
    const both = { "stage:outbox": "fail", "regression:id-populated": "fail" } as const;
    expect(play([both, both, both]).sent.sort()).toEqual(["2:firing:check/canary/regression:id-populated", "2:firing:check/canary/stage:outbox"]);
  });
});
