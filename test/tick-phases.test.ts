import { describe, expect, it } from "vitest";
import { z } from "zod";
import { check, type CheckStatus, type ProbeResult } from "../shared/result.ts";
import { AlertingSettings } from "../shared/alerting/settings.ts";
import { DEFAULT_ROUTES } from "../shared/channels/routes.ts";
import type { Channel } from "../shared/channels/types.ts";
import type { AnyProbe } from "../shared/probes/types.ts";
import type { ProbeInfo } from "../shared/status/document.ts";
import { collect, type Measured } from "../shared/tick/collect.ts";
import { judge } from "../shared/tick/judge.ts";
import { decide } from "../shared/tick/decide.ts";
import { deliver, planDelivery } from "../shared/tick/deliver.ts";
import { publish, published } from "../shared/tick/publish.ts";
import { emptySentinelState, type SentinelState } from "../shared/tick/state.ts";

/** The tick's phases one by one, on a fixed clock, with no store and no Beacon: what each reads and writes. */

const NOW = new Date("2026-05-01T10:05:30.000Z");
const silentLog = { info() {}, warn() {}, error() {} };
const INFOS: ProbeInfo[] = [
  { id: "every-minute", title: "Every minute", stage: "queue", schedule: "* * * * *", intervalMs: 60_000 },
  { id: "every-five", title: "Every five minutes", stage: "worker", schedule: "*/5 * * * *", intervalMs: 300_000 },
];
const probe = (id: string): AnyProbe => ({ id, title: id, stage: "queue", schedule: "* * * * *", settings: z.object({ timeoutMs: z.number() }), run: async () => ({ checks: [] }) });
const PROBES = INFOS.map((i) => probe(i.id));
const SETTINGS = { budgetMs: 25_000, probeBudgetMs: 10_000, storeTimeoutMs: 2_500, pendingCap: 50, staleFactor: 2, sendBudgetMs: 12_000, tickIntervalMs: 60_000 };

function result(probeId: string, status: CheckStatus): ProbeResult {
  return {
    version: 1, probe: probeId, status, startedAt: NOW.toISOString(), durationMs: 7,
    checks: [check({ name: "depth", status, observed: status === "fail" ? 5000 : 3, threshold: "<= 1000", message: status, evidence: status === "fail" ? ["jobs: 5000 waiting"] : [] })],
  };
}

/** A state as the tick that ran at 10:00 left it: both probes ran for the 10:00 slot. */
function stateAt1000(): SentinelState {
  const state = emptySentinelState();
  for (const id of ["every-minute", "every-five"]) state.probes[id] = { lastSlot: "2026-05-01T10:00:00.000Z", history: [], timeline: [] };
  state.monitoring.lastTickAt = "2026-05-01T10:00:00.000Z";
  return state;
}

function collectDeps(budgets: Record<string, number>, channels: { name: string }[] = []) {
  return {
    probes: PROBES, infos: INFOS, log: silentLog, settings: SETTINGS, channels: channels as never,
    measure: async (p: AnyProbe, _previous: unknown, timeoutMs: number) => {
      budgets[p.id] = timeoutMs;
      return { result: result(p.id, "pass"), state: undefined };
    },
  };
}

describe("collect", () => {
  it.each<[string, number, number, Record<string, number>]>([
    ["a tick with time to spare gives each probe the whole probe budget", 25_000, 0, { "every-minute": 10_000, "every-five": 10_000 }],
    ["a late tick keeps 3 s to decide and write", 9_000, 0, { "every-minute": 6_000, "every-five": 6_000 }],
    ["with a channel, the send's whole 12 s is kept as well", 20_000, 1, { "every-minute": 5_000, "every-five": 5_000 }],
    ["at defaults with a channel, the probe budget is exactly what is left beside the send and the writes", 25_000, 1, { "every-minute": 10_000, "every-five": 10_000 }],
    ["a very late tick still gives a probe 1 s", 2_000, 0, { "every-minute": 1_000, "every-five": 1_000 }],
  ])("%s", async (_name, remainingMs, channels, expected) => {
    const budgets: Record<string, number> = {};
    await collect(collectDeps(budgets, channels ? [{ name: "slack" }] : []), { state: stateAt1000(), now: NOW, remainingMs });
    expect(budgets).toEqual(expected);
  });

  it("runs each probe whose cadence has a slot since its last, with that slot, and records the runs a gap missed", async () => {
    const state = stateAt1000();
    state.probes["every-five"]!.lastSlot = "2026-05-01T10:05:00.000Z";
    const measured = await collect(collectDeps({}), { state, now: NOW, remainingMs: 25_000 });
    expect(measured.map((m) => [m.probe.id, m.slot])).toEqual([["every-minute", "2026-05-01T10:05:00.000Z"]]);
    // 10:00 → 10:05:30 missed 10:01-10:05 of the first and 10:05 of the second; the 10:05 run now is not missed.
    expect(state.monitoring.lostResults).toBe(5);
    expect(state.monitoring.gaps).toEqual([{ from: "2026-05-01T10:00:00.000Z", to: NOW.toISOString(), missedRuns: 5 }]);
  });

  it("a manual run names its probes, runs them without a slot, and ignores unknown ids", async () => {
    const measured = await collect(collectDeps({}), { state: stateAt1000(), only: ["every-five", "nope"], now: NOW, remainingMs: 25_000 });
    expect(measured.map((m) => [m.probe.id, m.slot])).toEqual([["every-five", undefined]]);
  });
});

describe("judge, decide, publish, deliver", () => {
  const measured: Measured[] = [
    { probe: PROBES[0]!, slot: "2026-05-01T10:05:00.000Z", result: result("every-minute", "fail"), state: { kept: 1 } },
    { probe: PROBES[1]!, slot: "2026-05-01T10:05:00.000Z", result: result("every-five", "pass"), state: undefined },
  ];
  // One failure fires at once for the first probe, so a single tick decides something.
  const policy = { objectives: [], alerting: AlertingSettings.parse({ probes: { "every-minute": { failuresToTrigger: 1, window: 1 } } }), probes: INFOS };

  it("judge records each result as its probe's latest, with its slot and kept state, and returns them in run order", () => {
    const state = stateAt1000();
    const results = judge(state, measured, NOW.getTime());
    expect(results.map((r) => [r.probe, r.status])).toEqual([["every-minute", "fail"], ["every-five", "pass"]]);
    expect(state.probes["every-minute"]).toMatchObject({ lastSlot: "2026-05-01T10:05:00.000Z", state: { kept: 1 }, latest: { status: "fail" } });
    expect(state.probes["every-minute"]!.history.map((h) => [h.s, h.f])).toEqual([["fail", ["depth"]]]);
    expect(state.probes["every-five"]!.state).toBeUndefined();
  });

  it("decide fires, routes and queues; publish shows it; deliver settles it with the channel's outcome", async () => {
    const state = stateAt1000();
    const results = judge(state, measured, NOW.getTime());
    const sent: string[][] = [];
    const slack: Channel = { name: "slack", budgetMs: 1_000, deliver: async (owed) => (sent.push(owed.map((n) => n.alertKey)), { delivered: owed.map((n) => n.id), abandoned: [] }) };
    const deps = { policy, channels: [slack], routes: DEFAULT_ROUTES, settings: SETTINGS, infos: INFOS, log: silentLog, now: () => NOW };

    const decision = decide(deps, state, { results, silences: [], now: NOW });
    expect(decision.notifications.map((n) => `${n.kind}:${n.alertKey}`)).toEqual(["firing:check/every-minute/depth"]);
    expect(state.alerts.pending.map((n) => n.channels)).toEqual([["slack"]]);
    expect(state.monitoring).toMatchObject({ ticks: 1, lastTickAt: NOW.toISOString() });

    const status = publish({ infos: INFOS, staleFactor: SETTINGS.staleFactor }, state, published({ silences: [], slos: decision.slos, now: NOW, tickIntervalMs: SETTINGS.tickIntervalMs }));
    expect(status.probes.map((p) => [p.id, p.state])).toEqual([["every-minute", "fail"], ["every-five", "pass"]]);
    expect(status.alerts.firing.map((a) => a.key)).toEqual(["check/every-minute/depth"]);
    expect(status.monitoring).toMatchObject({ pendingNotifications: 1, nextTickBy: "2026-05-01T10:06:30.000Z" });

    const late = planDelivery(deps, structuredClone(state), () => 13_000);
    expect([late.canSend, late.recordOutcome]).toEqual([false, false]); // 12 s to send and 2 s to spare do not fit in 13 s
    const plan = planDelivery(deps, state, () => 20_000);
    expect([plan.canSend, plan.recordOutcome, plan.unsent]).toEqual([true, true, 0]);
    expect(await deliver(deps, state, plan)).toBe(1);
    expect(sent).toEqual([["check/every-minute/depth"]]);
    expect(state.alerts.pending).toEqual([]);
    expect(state.monitoring.channels.slack).toMatchObject({ delivered: 1, failed: 0, unknown: 0, lastDeliveredAt: NOW.toISOString() });
  });

  it("with no channel configured, what was decided is logged once and not kept", () => {
    const state = stateAt1000();
    const results = judge(state, measured, NOW.getTime());
    const logged: string[] = [];
    const deps = { policy, channels: [], routes: DEFAULT_ROUTES, settings: SETTINGS, log: { ...silentLog, info: (m: string) => void logged.push(m) }, now: () => NOW };
    decide(deps, state, { results, silences: [], now: NOW });
    const plan = planDelivery(deps, state, () => 20_000);
    expect([plan.canSend, plan.unsent, state.alerts.pending.length]).toEqual([false, 1, 0]);
    expect(logged).toEqual(["notifications decided, no channel configured"]);
  });
});
