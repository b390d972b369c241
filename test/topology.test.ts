import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { check, type CheckStatus, type ProbeResult } from "../shared/result.ts";
import { AlertingSettings } from "../shared/alerting/settings.ts";
import { DEFAULT_ROUTES } from "../shared/channels/routes.ts";
import { ChannelSettings, createChannels, SEND_BUDGET_MS } from "../shared/channels/catalog.ts";
import { PROBES } from "../shared/probes/catalog.ts";
import { intervalOf, latestSlot } from "../shared/schedule.ts";
import { runTick, type TickDeps, type TickReport } from "../shared/tick/run.ts";
import { createTickStore } from "../shared/tick/store.ts";
import { evaluationRun, lockWaitFor, probeFunctionRun, type RunBudget } from "../shared/tick/topology.ts";
import { createKeys } from "../shared/store/keys.ts";
import { projectCost, SEND_EXTRA_COMMANDS, type CostInputs } from "../shared/cost/model.ts";
import type { ProbeInfo } from "../shared/status/document.ts";
import { scheduledRun, TICK_SCHEDULE } from "../netlify/tick.ts";
import { scheduledProbe } from "../netlify/probe-function.ts";
import { createRuntime, type Runtime } from "../netlify/runtime.ts";
import { createDirectRedis, testServices } from "./support/env.ts";
import { startUpstashBridge, type UpstashBridge } from "./support/upstash-bridge.ts";
import { startHttpReceiver, type HttpReceiver } from "./support/http-receiver.ts";
import { capturingLogger } from "./support/http-handlers.ts";

/**
 * The per-probe topology (SENTINEL_TOPOLOGY=per-probe) run end to end on a virtual clock: every probe
 * function the netlify.toml block schedules is invoked on its cron's minutes with the options the
 * deployed function uses (shared/tick/topology.ts), then the tick's evaluation, over the real tick
 * store (the Upstash client, our counting bridge, real Redis) and a real webhook receiver. The probes
 * are stand-ins whose outcome the test switches: pass, fail, or crash the function that runs them.
 */

const MINUTE = 60_000;
const INFOS: ProbeInfo[] = PROBES.map((p) => ({ id: p.id, title: p.title, stage: p.stage, schedule: p.schedule, intervalMs: intervalOf(p.schedule) }));
/** One failure fires, one pass resolves; a probe silent for 2 of its intervals is missing. */
const ALERTING = AlertingSettings.parse({ defaults: { failuresToTrigger: 1, window: 1, successesToResolve: 1 }, staleFactor: 2 });
const BUDGET: RunBudget = { budgetMs: 25_000, probeBudgetMs: 10_000, writeReserveMs: 3_000, sendBudgetMs: SEND_BUDGET_MS };

let bridge: UpstashBridge;
let hook: HttpReceiver;

beforeAll(async () => {
  bridge = await startUpstashBridge({ redis: () => createDirectRedis(testServices()), token: randomBytes(8).toString("hex") });
  hook = await startHttpReceiver();
});
afterAll(async () => {
  await Promise.all([bridge?.close(), hook?.close()]);
});

type Outcome = CheckStatus | "crash";

/** A sentinel on its own prefix and webhook path, on a clock the test moves, with switchable probes. */
function sentinel(startMs: number) {
  const test = randomBytes(4).toString("hex");
  const clock = { t: startMs };
  const outcome: Record<string, Outcome> = Object.fromEntries(PROBES.map((p) => [p.id, "pass"]));
  const measured: { probe: string; manual: boolean }[] = [];
  const delay = { ms: 0 };
  const redis = new Redis({ url: bridge.url, token: bridge.token, automaticDeserialization: false, enableTelemetry: false, retry: false });
  const channels = createChannels({
    statusUrl: "https://sentinel.example.org/status",
    channels: { webhook: { SENTINEL_WEBHOOK_URL: `${hook.url}/${test}`, SENTINEL_WEBHOOK_SECRET: "topology-test-secret" } },
    settings: { channels: ChannelSettings.parse({ webhook: { requestTimeoutMs: 2_000 } }) },
  }, { fetch: globalThis.fetch, redact: (s) => s, now: () => new Date(clock.t) });
  const deps: TickDeps = {
    store: createTickStore(redis, createKeys(`topology-test:${test}:`), { infos: INFOS, staleFactor: 2 }),
    probes: PROBES, infos: INFOS, policy: { objectives: [], alerting: ALERTING, probes: INFOS },
    now: () => new Date(clock.t), log: capturingLogger(), channels, routes: DEFAULT_ROUTES,
    measure: async (probe, _state, _timeoutMs, manual) => {
      measured.push({ probe: probe.id, manual: manual === true });
      if (delay.ms) await new Promise((r) => setTimeout(r, delay.ms));
      const status = outcome[probe.id]!;
      if (status === "crash") throw new Error(`the ${probe.id} function crashed`);
      const result: ProbeResult = { version: 1, probe: probe.id, status, startedAt: new Date(clock.t).toISOString(), durationMs: 3, checks: [check({ name: "up", status, observed: status, threshold: "pass", message: status })] };
      return { result, state: undefined };
    },
    settings: { budgetMs: BUDGET.budgetMs, probeBudgetMs: BUDGET.probeBudgetMs, writeReserveMs: BUDGET.writeReserveMs, pendingCap: 50, staleFactor: 2, sendBudgetMs: SEND_BUDGET_MS, tickIntervalMs: MINUTE },
  };
  /** The probe functions whose cron fires this minute (netlify.toml's block: each probe's own cadence). */
  const firing = () => PROBES.filter((p) => latestSlot(p.schedule, new Date(clock.t))?.getTime() === clock.t).map((p) => p.id);
  const probeFunction = (id: string) => runTick(deps, probeFunctionRun(id, BUDGET));
  const evaluation = () => runTick(deps, evaluationRun(BUDGET));
  /** What the webhook was told, per alert and kind, each notification counted once (its id). */
  const told = () => {
    const seen = new Map<string, string>();
    for (const r of hook.requests.filter((q) => q.path === `/${test}` && q.status === 200)) {
      for (const n of JSON.parse(r.raw).notifications as { id: string; kind: string; alertKey: string }[]) seen.set(n.id, `${n.kind} ${n.alertKey}`);
    }
    return [...seen.values()];
  };
  return { clock, outcome, measured, delay, deps, firing, probeFunction, evaluation, told };
}

describe("the per-probe topology on a virtual clock", () => {
  it("a probe fails in its own function, the tick's evaluation sends it once; a crashed function loses only its probe, and goes missing; invocations and store commands as projected", async () => {
    const s = sentinel(Math.ceil(Date.now() / (60 * MINUTE)) * 60 * MINUTE); // on the hour: every cadence fires at the first minute
    bridge.meter.reset();
    const invocations: Record<string, number> = { tick: 0 };
    const crashed: string[] = [];
    const reports: TickReport[] = [];
    const ticks: TickReport[] = [];
    for (let m = 0; m < 60; m++) {
      if (m === 10) s.outcome.health = "fail";
      if (m === 20) s.outcome.health = "pass";
      if (m === 30) s.outcome.canary = "crash";
      if (m === 40) s.outcome.canary = "pass";
      const own: Record<string, TickReport> = {};
      for (const id of s.firing()) {
        invocations[`probe-${id}`] = (invocations[`probe-${id}`] ?? 0) + 1;
        try {
          const report = await s.probeFunction(id);
          reports.push(report);
          own[id] = report;
          // Each function ran its own probe, for its slot, and sent nothing: sending is the tick's.
          expect(report.results.map((r) => r.probe)).toEqual([id]);
          expect(report.delivered).toBe(0);
        } catch (error) {
          crashed.push(`${m}:${id}:${(error as Error).message}`);
        }
      }
      invocations.tick! += 1;
      const tick = await s.evaluation();
      expect(tick.results).toEqual([]);
      expect(tick.skipped).toBeUndefined();
      ticks.push(tick);
      if (m === 10) {
        // Decided in health's own function (it saw the failure), queued, sent by the tick's evaluation.
        expect(own.health!.notifications.map((n) => `${n.kind} ${n.alertKey}`)).toEqual(["firing check/health/up"]);
        expect(own.health!.pending).toBe(1);
        expect(tick.delivered).toBe(1);
      }
      s.clock.t += MINUTE;
    }
    // The crash took the canary's ten runs and nothing else: every other probe ran each of its slots.
    expect(crashed).toHaveLength(10);
    expect(crashed[0]).toBe("30:canary:the canary function crashed");
    expect(reports.every((r) => r.lost === 0 && r.skipped === undefined)).toBe(true);
    // No scheduled run is taken for a manual one: each served its slot.
    expect(s.measured.filter((x) => x.manual)).toEqual([]);
    // One FIRING and one RESOLVED for the failure; the crashed canary went missing (2 intervals silent) and came back, each said once.
    expect(s.told().sort()).toEqual([
      "firing check/health/up", "firing missing/canary", "resolved check/health/up", "resolved missing/canary",
    ]);

    // The projection of the same hour in the per-probe topology: the invocations exactly, crashed ones included.
    const hour = projectCost({ ...DEFAULTS, topology: "per-probe" }, 60);
    const { "status-page": _views, "api-metrics": _scrapes, ...functions } = hour.invocations;
    expect(invocations).toEqual(functions);
    // Store commands, counted at the bridge: each run (a crashed one too: its lock was taken and released) 4, past reads
    // (a fresh store reads at minutes 15, 30 and 45 only), one more for each tick that sent. No run waited: the lock-wait estimate is not spent.
    const sent = ticks.filter((t) => t.delivered > 0).length;
    expect(sent).toBe(4);
    expect(bridge.meter.commands).toBe(hour.storeCommands.ticks! + hour.storeCommands["probe functions"]! + hour.storeCommands["past reads"]! - 1 + sent * SEND_EXTRA_COMMANDS);
  }, 120_000);

  it("eight runs firing in the same minute take turns for the lock: none skipped, none lost, every result stored", async () => {
    const s = sentinel(Math.ceil(Date.now() / (60 * MINUTE)) * 60 * MINUTE);
    s.delay.ms = 150; // each run holds the lock while its probe measures: the runs overlap
    const ids = s.firing();
    expect(ids).toHaveLength(PROBES.length);
    const all = await Promise.all([...ids.map((id) => s.probeFunction(id)), s.evaluation()]);
    expect(all.map((r) => r.skipped)).toEqual(all.map(() => undefined));
    expect(all.reduce((n, r) => n + r.lost, 0)).toBe(0);
    expect(new Set(all.map((r) => r.tickId)).size).toBe(8);
    const read = await s.deps.store.peek();
    for (const id of ids) expect(read.state.probes[id]?.latest?.startedAt, id).toBe(new Date(s.clock.t).toISOString());
    // Eight writes, one after another: the state records the eighth of the store's write sequence.
    expect(read.state.monitoring.ticks).toBe(8);
    // Called again in the same minute, a function finds its probe's slot served: no probe runs, so no call adds Beacon load.
    const again = await s.probeFunction("health");
    expect(again.results).toEqual([]);
    expect(s.measured.filter((x) => x.probe === "health")).toHaveLength(1);
  }, 60_000);

  it("waits for the lock leave each run its probe's whole deadline inside the budget", () => {
    expect(lockWaitFor(BUDGET, "probe")).toBe(12_000);
    expect(lockWaitFor(BUDGET, "evaluation")).toBe(8_000);
    expect(lockWaitFor(BUDGET, "probe") + BUDGET.probeBudgetMs + BUDGET.writeReserveMs).toBeLessThanOrEqual(BUDGET.budgetMs);
  });
});

describe("the deployed probe function (functions/probe-<id>.ts)", () => {
  const ADMIN = "admin-token-0123456789abcdef";
  /** A runtime on a fresh prefix of the counted store; Beacon is a closed port (the health probe errors at once). */
  const runtime = (extra: Record<string, string>): Runtime => createRuntime({
    BEACON_API_URL: "http://127.0.0.1:9", SENTINEL_REDIS_REST_URL: bridge.url, SENTINEL_REDIS_REST_TOKEN: bridge.token,
    SENTINEL_KEY_PREFIX: `topology-fn:${randomBytes(4).toString("hex")}:`, ...extra,
  }, { redisRetries: 0, log: capturingLogger(), now: () => new Date(AT) });
  const AT = Math.floor(Date.now() / MINUTE) * MINUTE + 30_000; // one minute for every call: a slot is served once
  const call = (headers: Record<string, string> = {}) => new Request("https://sentinel.example.org/.netlify/functions/probe-health", { method: "POST", headers, body: JSON.stringify({ next_run: new Date().toISOString() }) });

  it("with the default topology it answers 404 at once and touches neither the store nor Beacon, even called as the scheduler", async () => {
    const rt = runtime({ SENTINEL_ADMIN_TOKEN: ADMIN });
    try {
      bridge.meter.reset();
      const response = await scheduledProbe("health", () => rt)(call({ "x-nf-event": "schedule", authorization: `Bearer ${ADMIN}` }));
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: string }).error).toBe("topology_off");
      expect(bridge.meter.requests).toBe(0);
    } finally {
      await rt.close();
    }
  });

  it("per-probe: a request that is not the scheduler's needs the admin token; the scheduler's runs the probe once per slot", async () => {
    const rt = runtime({ SENTINEL_TOPOLOGY: "per-probe", SENTINEL_ADMIN_TOKEN: ADMIN });
    const fn = scheduledProbe("health", () => rt);
    try {
      expect((await fn(call())).status).toBe(401);
      expect((await fn(call({ authorization: "Bearer wrong-token-0123456789" }))).status).toBe(403);
      const scheduled = await fn(call({ "x-nf-event": "schedule" }));
      expect(scheduled.status).toBe(200);
      const report = (await scheduled.json()) as TickReport;
      expect(report.results.map((r) => r.probe)).toEqual(["health"]);
      // The admin's call in the same minute finds the slot served: it runs nothing, so no call adds Beacon load.
      const admin = await fn(call({ authorization: `Bearer ${ADMIN}` }));
      expect(admin.status).toBe(200);
      expect(((await admin.json()) as TickReport).results).toEqual([]);
    } finally {
      await rt.close();
    }
  });

  it("the scheduled tick runs the due probes by default, and with per-probe runs none: it evaluates what the functions stored", async () => {
    for (const [topology, ran] of [["tick", PROBES.length], ["per-probe", 0]] as const) {
      const rt = runtime({ SENTINEL_TOPOLOGY: topology });
      try {
        const report = await scheduledRun(rt);
        expect(report.skipped, topology).toBeUndefined();
        expect(report.results, topology).toHaveLength(ran);
      } finally {
        await rt.close();
      }
    }
  }, 60_000);

  it("per-probe without an admin token configured: only the scheduler runs it", async () => {
    const rt = runtime({ SENTINEL_TOPOLOGY: "per-probe" });
    try {
      expect((await scheduledProbe("health", () => rt)(call())).status).toBe(503);
    } finally {
      await rt.close();
    }
  });
});

const DEFAULTS: CostInputs = {
  tickSchedule: TICK_SCHEDULE,
  schedules: Object.fromEntries(PROBES.map((p) => [p.id, p.schedule])),
  healthUrls: 0, canaryEnabled: true, canaryIntervalMinutes: 15,
  pageHoursPerDay: 0, pageRefreshSeconds: 120, stateBytes: 8_000, statusBytes: 9_000,
};
