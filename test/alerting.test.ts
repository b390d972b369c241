import { describe, expect, it } from "vitest";
import { evaluateAlerts, type AlertInput } from "../shared/alerting/evaluate.ts";
import { AlertingSettings } from "../shared/alerting/settings.ts";
import { emptyState, type AlertState } from "../shared/alerting/state.ts";
import type { ProbeResult, CheckStatus } from "../shared/result.ts";
import { check } from "../shared/result.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const at = (minute: number) => new Date(T0 + minute * 60_000);
/** The default rule (3 failures in 5 runs) for every probe, the queue's 2-in-3 default removed: the rules below use the queue probe's results. */
const settings = AlertingSettings.parse({ probes: {} });

it("the queue probe, every 5 minutes, fires on 2 failures in its last 3 runs by default; the others on 3 in 5", () => {
  const defaults = AlertingSettings.parse({});
  expect(defaults.probes).toEqual({ queue: { failuresToTrigger: 2, window: 3 } });
  expect(defaults.defaults).toMatchObject({ failuresToTrigger: 3, window: 5 });
});
const probes = [{ id: "queue", stage: "queue", title: "Queue", intervalMs: 60_000 }, { id: "health", stage: "runner-api", title: "Health", intervalMs: 60_000 }];

function result(minute: number, status: CheckStatus, probe = "queue", name = "queue-depth"): ProbeResult {
  return {
    version: 1, probe, status, startedAt: at(minute).toISOString(), durationMs: 5,
    checks: [check({ name, status, observed: status === "fail" ? 5000 : 3, threshold: "<= 1000", message: status, evidence: status === "fail" ? ["jobs: 5000 waiting"] : [] })],
    ...(status === "error" ? { error: "Redis unreachable" } : {}),
  };
}

/** Feeds one result per minute (and a passing health result) and returns every notification, in order. */
function play(statuses: CheckStatus[], extra: Partial<AlertInput> = {}) {
  let state: AlertState = emptyState();
  const sent: string[] = [];
  statuses.forEach((s, minute) => {
    const out = evaluateAlerts({ state, results: [result(minute, s), result(minute, "pass", "health", "runner-health")], slos: [], probes, silences: [], settings, now: at(minute), ...extra });
    state = out.state;
    for (const n of out.notifications) sent.push(`${minute}:${n.kind}:${n.alertKey}`);
  });
  return { sent, state };
}

describe("probe alert rules", () => {
  it.each([
    ["3 failures in 5 runs fire once", ["fail", "pass", "fail", "pass", "fail"], ["4:firing:check/queue/queue-depth"]],
    ["2 failures in 5 runs do not", ["fail", "pass", "pass", "fail", "pass"], []],
    ["blindness counts neither way", ["fail", "error", "fail", "error", "pass"], []],
    ["a flapping check does not resolve until 2 passes in a row", ["fail", "fail", "fail", "pass", "fail", "pass", "pass"], ["2:firing:check/queue/queue-depth", "6:resolved:check/queue/queue-depth"]],
  ] as const)("%s", (_name, statuses, expected) => {
    expect(play([...statuses]).sent.filter((s) => s.includes("check/"))).toEqual(expected);
  });

  it("a probe that cannot measure 3 times raises 'blind', a ticket, not a failure", () => {
    const { sent, state } = play(["error", "error", "error"]);
    expect(sent).toEqual(["2:firing:blind/queue"]);
    expect(state.alerts["blind/queue"]!.severity).toBe("ticket");
  });

  it("reminds every 4 hours while firing, and not in between", () => {
    let state = play(["fail", "fail", "fail"]).state;
    const kinds: string[] = [];
    for (const minute of [60, 239, 242, 300, 482]) {
      const out = evaluateAlerts({ state, results: [result(minute, "fail"), result(minute, "pass", "health", "runner-health")], slos: [], probes, silences: [], settings, now: at(minute) });
      state = out.state;
      kinds.push(...out.notifications.map((n) => `${minute}:${n.kind}`));
    }
    expect(kinds).toEqual(["242:reminder", "482:reminder"]);
  });

  it("a cold start with the stored state does not page again", () => {
    const { state } = play(["fail", "fail", "fail"]);
    const restored = JSON.parse(JSON.stringify(state)) as AlertState;
    const out = evaluateAlerts({ state: restored, results: [result(3, "fail"), result(3, "pass", "health", "runner-health")], slos: [], probes, silences: [], settings, now: at(3) });
    expect(out.notifications).toEqual([]);
  });

  it("something that fires and clears inside a silence is recorded, not announced", () => {
    const silence = { id: "s1", matcher: { probe: "queue" }, startsAt: at(0).toISOString(), endsAt: at(60).toISOString(), createdBy: "t", comment: "", createdAt: at(0).toISOString() };
    const { sent, state } = play(["fail", "fail", "fail", "pass", "pass"], { silences: [silence] });
    expect(sent.filter((s) => s.includes("queue-depth"))).toEqual([]);
    expect(state.log.map((l) => l.text)).toEqual(expect.arrayContaining([
      "check/queue/queue-depth firing, held by silence:s1",
      "check/queue/queue-depth resolved without having been announced (held by silence:s1)",
    ]));
  });

  it("a resolution owed is sent even while a silence is active", () => {
    let { state } = play(["fail", "fail", "fail"]);
    const silence = { id: "s2", matcher: {}, startsAt: at(3).toISOString(), endsAt: at(60).toISOString(), createdBy: "t", comment: "", createdAt: at(3).toISOString() };
    const sent: string[] = [];
    for (const minute of [3, 4]) {
      const out = evaluateAlerts({ state, results: [result(minute, "pass"), result(minute, "pass", "health", "runner-health")], slos: [], probes, silences: [silence], settings, now: at(minute) });
      state = out.state;
      sent.push(...out.notifications.map((n) => `${n.kind}:${n.alertKey}`));
    }
    expect(sent).toEqual(["resolved:check/queue/queue-depth"]);
  });

  it("an alert held by a dependency is announced once the root cause clears and it still fails", () => {
    let state = emptyState();
    const sent: string[] = [];
    const step = (minute: number, redis: CheckStatus, depth: CheckStatus) => {
      const out = evaluateAlerts({ state, results: [result(minute, depth), result(minute, redis, "health", "redis")], slos: [], probes, silences: [], settings, now: at(minute) });
      state = out.state;
      sent.push(...out.notifications.map((n) => `${minute}:${n.kind}:${n.alertKey}`));
    };
    [0, 1, 2].forEach((m) => step(m, "fail", "fail"));
    [3, 4].forEach((m) => step(m, "pass", "fail"));
    expect(sent.sort()).toEqual(["2:firing:check/health/redis", "4:firing:check/queue/queue-depth", "4:resolved:check/health/redis"]);
  });

  /** Root: health/redis; dependent: queue/queue-depth (the queue probe's dependsOn). */
  function inhibition() {
    let state = emptyState();
    const sent: { minute: number; kind: string; key: string; affected?: string[] }[] = [];
    const step = (minute: number, results: ProbeResult[], slos: AlertInput["slos"] = []) => {
      // No cadence watched here ("missing" is another test's): only what the results and SLOs say.
      const out = evaluateAlerts({ state, results, slos, probes: [], silences: [], settings, now: at(minute) });
      state = out.state;
      sent.push(...out.notifications.map((n) => ({ minute, kind: n.kind, key: n.alertKey, ...(n.affected ? { affected: n.affected } : {}) })));
    };
    return { step, sent, state: () => state };
  }

  it("one fault, one page: the root's page lists the held check; it recovers with the root and is never announced", () => {
    const { step, sent, state } = inhibition();
    [0, 1, 2].forEach((m) => step(m, [result(m, "fail"), result(m, "fail", "health", "redis")]));
    expect(state().alerts["check/queue/queue-depth"]).toMatchObject({ firing: true, notified: false, heldBy: "dependency:check/health/redis", affectedBy: "check/health/redis" });
    [3, 4].forEach((m) => step(m, [result(m, "pass"), result(m, "pass", "health", "redis")]));
    expect(sent).toEqual([
      { minute: 2, kind: "firing", key: "check/health/redis", affected: ["queue: queue-depth"] },
      { minute: 4, kind: "resolved", key: "check/health/redis", affected: ["queue: queue-depth"] },
    ]);
    expect(state().log.map((l) => l.text)).toContain("check/queue/queue-depth resolved without having been announced (held by dependency:check/health/redis)");
  });

  it("a held check not measured again after its root recovered stays with the root: no page on its stale failure", () => {
    const { step, sent, state } = inhibition();
    [0, 1, 2].forEach((m) => step(m, [result(m, "fail"), result(m, "fail", "health", "redis")]));
    [3, 4, 5].forEach((m) => step(m, [result(m, "pass", "health", "redis")])); // the queue probe does not run
    expect(sent.map((n) => `${n.minute}:${n.kind}:${n.key}`)).toEqual(["2:firing:check/health/redis", "4:resolved:check/health/redis"]);
    expect(state().alerts["check/queue/queue-depth"]).toMatchObject({ firing: true, heldBy: "dependency:check/health/redis", affectedBy: "check/health/redis" });
    step(6, [result(6, "fail")]); // measured again, still failing: now it is its own fault
    expect(sent.map((n) => `${n.minute}:${n.kind}:${n.key}`).slice(2)).toEqual(["6:firing:check/queue/queue-depth"]);
    expect(state().alerts["check/queue/queue-depth"]!.affectedBy).toBeUndefined();
  });

  it("follows the chain to the root: the canary behind runner-ready behind the database pages as the database", () => {
    const { step, sent, state } = inhibition();
    const canary = (m: number) => result(m, "fail", "canary", "stage:accepted");
    [0, 1, 2].forEach((m) => step(m, [canary(m), result(m, "fail", "health", "runner-ready"), result(m, "fail", "health", "database")]));
    expect(sent.map((n) => `${n.kind}:${n.key}`)).toEqual(["firing:check/health/database"]);
    expect(sent[0]!.affected).toEqual(["canary: stage:accepted", "health: runner-ready"]);
    expect(state().alerts["check/canary/stage:accepted"]!.heldBy).toBe("dependency:check/health/database");
  });

  it("an SLO burning behind its root cause is held, and announced alone only if it still burns 30 min after the root recovered", () => {
    const { step, sent } = inhibition();
    const slo = { id: "error-rate", title: "API requests without 5xx", target: 0.999, periodDays: 30, source: "traffic:requests", events: 5000, enoughEvents: 1001,
      period: { minutes: 43200, good: 4900, total: 5000, errorRatio: 0.02, burnRate: 20 }, budgetRemaining: -19, budgetRemainingMinutes: -820, alerts: [], severity: "page" as const,
      dependsOn: ["check/health/runner-health"] };
    const runner = (m: number, s: CheckStatus) => result(m, s, "health", "runner-health");
    [0, 1, 2].forEach((m) => step(m, [runner(m, "fail")], [slo]));
    [3, 4, 20].forEach((m) => step(m, [runner(m, "pass")], [slo]));
    expect(sent.map((n) => `${n.minute}:${n.kind}:${n.key}`)).toEqual(["2:firing:check/health/runner-health", "4:resolved:check/health/runner-health"]);
    step(34, [runner(34, "pass")], [slo]); // 30 min after the root cleared at minute 4, still burning
    expect(sent.map((n) => `${n.minute}:${n.kind}:${n.key}`).slice(-1)).toEqual(["34:firing:slo/error-rate"]);
  });
});
