import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAGE_REFRESH_SECONDS } from "../shared/status/page.ts";
import { randomBytes } from "node:crypto";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { testServices, createDirectRedis } from "./support/env.ts";
import { startUpstashBridge, type UpstashBridge } from "./support/upstash-bridge.ts";

import { BEACON_PLANS, BUDGET, NETLIFY, projectCost, TICK_SCRIPTS, TYPICAL_BYTES, type CostInputs } from "../shared/cost/model.ts";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import { PROBES } from "../shared/probes/catalog.ts";
import { tick, TICK_SCHEDULE } from "../netlify/tick.ts";
import { costCommand, tickScheduleFrom } from "../netlify/cli/cost.ts";
import { measuredTickTimes, recordTickTime, type TickTimes } from "../shared/tick/state.ts";
import { runTick, type TickDeps } from "../shared/tick/run.ts";
import { createRuntime } from "../netlify/runtime.ts";
import { policyFrom } from "../shared/config/policy.ts";
import { z } from "zod";
import type { AnyProbe } from "../shared/probes/types.ts";
import type { ProbeInfo } from "../shared/status/document.ts";
import { createKeys } from "../shared/store/keys.ts";
import { Settings, scheduleOf } from "../shared/config/index.ts";
import { databaseEveryMinutesOf } from "../shared/probes/health/settings.ts";
import { submissionIntervalMinutes } from "../shared/probes/canary/settings.ts";

/** The defaults, with the canary on (every deployment should run it) and a status page open all month. */
const DEFAULTS: CostInputs = {
  tickSchedule: TICK_SCHEDULE,
  schedules: Object.fromEntries(PROBES.map((p) => [p.id, p.schedule])),
  healthUrls: 0, canaryEnabled: true, canaryIntervalMinutes: 15,
  pageHoursPerDay: 24, pageRefreshSeconds: 120, stateBytes: 8_000, statusBytes: 9_000,
};

describe("the monthly bill at defaults, counted", () => {
  it("fits the budget: invocations, store commands (either way of counting scripts) and transfer", () => {
    const p = projectCost(DEFAULTS);
    expect(p.invocations).toEqual({ tick: 43_200, "status-page": 21_600, "api-metrics": 0 });
    expect(p.invocationsPerMonth).toBe(64_800);
    expect(p.storeCommands).toEqual({ ticks: 172_800, "past reads": 2_880, "status views": 21_600, scrapes: 0, "canary claims": 5_760 });
    expect(p.storeCommandsPerMonth).toBe(203_040);
    // The canary's release script counts 3 inside instead of 2; each tick's lock script 2 (SET, INCR) and fenced write 3 (GET, MSET, DEL) instead of 1 each.
    expect(p.storeCommandsIfScriptsCountInside).toBe(205_920 + 43_200 * 3);
    expect(p.invocationsPerMonth).toBeLessThanOrEqual(BUDGET.invocations);
    expect(p.storeCommandsIfScriptsCountInside).toBeLessThanOrEqual(BUDGET.storeCommands);
    expect(p.storeTransferBytesPerMonth).toBeLessThanOrEqual(BUDGET.storeTransferBytes);
    expect(p.overFreeTier).toBe(false);
    // The sentinel's own bills are within bounds; what it costs Beacon is not, and it says so.
    expect(p.warnings.map((w) => w.split(":")[0])).toEqual(["Beacon's database"]);
    // Issue 22's number to beat: at most 1 GB of store transfer a month, with the page at its own refresh and 90 days of history.
    const atPageDefault = projectCost({ ...DEFAULTS, pageRefreshSeconds: PAGE_REFRESH_SECONDS, stateBytes: TYPICAL_BYTES.state });
    expect(atPageDefault.storeTransferBytesPerMonth).toBeLessThanOrEqual(1024 ** 3);
  });

  it("bills Netlify credits: compute per GB-hour at the function memory, web requests, bandwidth, deploys", () => {
    const p = projectCost(DEFAULTS); // a tick assumed at 0.5 s, a status view at 0.045 s, 1 GB
    expect(p.netlify.gbHours.tick).toBe(6);
    expect(p.netlify.gbHours.views).toBeCloseTo(0.27, 9);
    expect(p.netlify.webRequests).toBe(21_600);
    // A view serves the rendered page, gzipped (TYPICAL_PAGE_BYTES: the bench's month measured it), not the stored document.
    expect(p.netlify.bandwidthBytes).toBe(21_600 * 29_600);
    expect(projectCost({ ...DEFAULTS, pageBytes: 30_000 }).netlify.bandwidthBytes).toBe(21_600 * 30_000);
    expect(p.netlify.credits.compute).toBeCloseTo(62.7, 9);
    expect(p.netlify.credits.requests).toBeCloseTo(6.48, 9);
    expect(p.netlify.credits.bandwidth).toBeCloseTo((639_360_000 / 1024 ** 3) * 10, 9);
    expect(p.netlify.creditsTotal).toBeCloseTo(75.1345, 3);
    expect(p.netlify.freeCreditsLastDay).toBeUndefined();
    // The platform notes' rule of thumb: a tick every minute costs 120 credits per second of its run time.
    const oneSecond = projectCost({ ...DEFAULTS, tickSeconds: 1, pageHoursPerDay: 0 });
    expect(oneSecond.netlify.credits.compute).toBeCloseTo(120, 9);
    const twoGb = projectCost({ ...DEFAULTS, tickSeconds: 1, pageHoursPerDay: 0, functionMemoryGb: 2, deploysPerMonth: 4 });
    expect(twoGb.netlify.credits.compute).toBeCloseTo(240, 9);
    expect(twoGb.netlify.credits.deploys).toBe(60);
  });

  it("warns a team lead before the Free plan's 300 credits pause every site of the team", () => {
    const near = projectCost({ ...DEFAULTS, tickSeconds: 1.8 }); // 216 + 2.7 + 6.48 + 5.95 = 231.1
    expect(near.overFreeTier).toBe(false);
    expect(near.warnings.find((w) => w.startsWith("Netlify"))).toBeUndefined();
    const reach = projectCost({ ...DEFAULTS, tickSeconds: 2 }); // 240 + 15.13 = 255.1: 85%
    expect(reach.warnings.find((w) => w.startsWith("Netlify"))).toMatch(/255 a month is 85% of the Free plan's 300, a hard cap for the whole team: .*45 left .* before Netlify pauses every site/);
    expect(reach.overFreeTier).toBe(false);
    const over = projectCost({ ...DEFAULTS, tickSeconds: 3 }); // 360 + 15.13 = 375.1: gone on day 24
    expect(over.netlify.freeCreditsLastDay).toBe(24);
    expect(over.warnings.find((w) => w.startsWith("Netlify"))).toMatch(/375 a month .* run out on day 24, and Netlify then pauses EVERY site of the team .* Beacon's portal goes offline too if it is in the same team/);
    expect(over.overFreeTier).toBe(true);
  });

  it("counts what watching costs Beacon: statements with each connection's setup, one connection a tick, and the hours its compute is kept awake", () => {
    const p = projectCost(DEFAULTS);
    // health 0 (the connection's set-up answers its check) + outbox 1 x 21,600 + receipts 14,400 + regions 8,640 + canary 3 follow-ups x 2,880 submissions
    expect(p.beacon.sqlProbeStatements).toBe(53_280);
    expect(p.beacon.sqlConnections).toBe(43_200); // health checks the database every minute: every tick opens one
    expect(p.beacon.sqlStatements).toBe(53_280 + 43_200); // each connection's one set_config
    expect(p.beacon.sqlStatements).toBe(96_480); // the issue's <= 100K
    expect(p.beacon.neonAwakeHours).toBe(720);
    expect(p.beacon.neonCuHours).toBe(180);
    expect(p.beacon.runnerAwakeHours).toBe(720);
    // The queue probe every 5 minutes (3 commands: a healthy queue), health's PING one minute in 10; the canary's
    // follow-ups read the queue only while their job sits in `created`, never on a healthy pipeline.
    expect(p.beacon.redisCommands).toBe(8_640 * 3 + 4_320);
    expect(p.beacon.redisCommands).toBe(30_240);
    // Database probes hourly and no canary: each run keeps Neon awake the 5 minutes it takes to suspend.
    const sql = new Set(["health", "outbox", "receipts", "regions"]);
    const hourly = projectCost({ ...DEFAULTS, canaryEnabled: false, schedules: Object.fromEntries(Object.entries(DEFAULTS.schedules).map(([id, s]) => [id, sql.has(id) ? "0 * * * *" : s])) });
    expect(hourly.beacon.sqlConnections).toBe(720);
    expect(hourly.beacon.sqlProbeStatements).toBe(720 * 3);
    expect(hourly.beacon.neonAwakeHours).toBe(60);
    expect(hourly.beacon.neonCuHours).toBe(15);
    expect(hourly.warnings.find((w) => w.startsWith("Beacon's database"))).toBeUndefined();
  });

  it("lets Neon sleep under beacon.database.everyMinutes: every statement on the same minutes, counted", async () => {
    const inputsFor = (settings: Settings): CostInputs => ({
      ...DEFAULTS,
      schedules: Object.fromEntries(PROBES.map((p) => [p.id, scheduleOf(settings, p)])),
      canaryIntervalMinutes: submissionIntervalMinutes(settings.probes.canary, settings.beacon),
      databaseEveryMinutes: databaseEveryMinutesOf(settings.probes.health, settings.beacon),
    });
    const at = (every: number, canary = true) => projectCost({ ...inputsFor(Settings.parse({ beacon: { database: { everyMinutes: every } } })), canaryEnabled: canary });
    const p = at(30);
    // outbox, receipts and regions once each on minutes 0 and 30 (1,440 runs a month each), the canary submitted on
    // them (every 30 min, not 15) and followed 3 runs; health's connection on them too, the canary's follow-ups on 2 more minutes.
    expect(p.beacon.sqlProbeStatements).toBe(3 * 1_440 + 3 * 1_440);
    expect(p.beacon.sqlConnections).toBe(6 * 720);
    expect(p.beacon.sqlStatements).toBe(12_960);
    // Awake minutes 0-6 and 30-36 of every hour: 14 minutes an hour.
    expect(p.beacon.neonAwakeHours).toBe(168);
    expect(p.beacon.neonCuHours).toBe(42);
    expect(p.beacon.neonCuHours).toBeLessThan(BEACON_PLANS.neonFreeCuHours);
    expect(p.warnings.find((w) => w.startsWith("Beacon's database"))).toBeUndefined();
    expect(projectCost(DEFAULTS).warnings.find((w) => w.startsWith("Beacon's database"))).toMatch(/720 hours a month, 180 CU-hours.*"everyMinutes":30/);
    // Without the canary: the 5 minutes after each of minutes 0 and 30 only.
    expect([at(30, false).beacon.sqlStatements, at(30, false).beacon.sqlConnections, at(30, false).beacon.neonAwakeHours, at(30, false).beacon.neonCuHours]).toEqual([5_760, 1_440, 120, 30]);
    expect([10, 15, 60].map((n) => [at(n).beacon.sqlStatements, at(n).beacon.sqlConnections, at(n).beacon.neonAwakeHours])).toEqual([[28_080, 8_640, 432], [25_920, 8_640, 336], [6_480, 2_160, 84]]);
    // Every 10 minutes is not enough with the canary on: 108 CU-hours; 15: 84; 60: 21.
    expect([10, 15, 60].map((n) => at(n).beacon.neonCuHours)).toEqual([108, 84, 21]);
    // Our queries let it sleep; a runner our health checks keep awake every minute would not (its publisher polls).
    expect(p.beacon.runnerAwakeHours).toBe(720);
    expect(p.beacon.neonAwakeHoursWithRunner).toBe(720);

    const out: string[] = [];
    const saved = { ...process.env };
    const write = process.stdout.write.bind(process.stdout);
    try {
      process.env.SENTINEL_SETTINGS = JSON.stringify({ beacon: { database: { everyMinutes: 30 } } });
      process.env.CANARY_SIGNING_KEY = generateKeyPair().privateKey;
      process.stdout.write = ((line: string) => (out.push(line), true)) as typeof process.stdout.write;
      await costCommand([]);
    } finally {
      process.stdout.write = write;
      process.env = saved;
    }
    const text = out.join("");
    expect(text).toMatch(/SQL statements\s+12,960 .* setup of 4,320 connections/);
    expect(text).toMatch(/Neon compute\s+42\.0 CU-hours\s+kept awake 168\.0 h by our queries alone, 42% of Neon's free 100/);
    expect(text).toMatch(/cadence\s+every 30 min, on the same minutes \(beacon.database.everyMinutes\)/);
    expect(text).toMatch(/with the runner\s+180\.0 CU-hours\s+awake 720\.0 h/);
    expect(text).not.toMatch(/WARNING: Beacon's database/);
  });

  it("counts Beacon's side per probe run: the regions probe adds one SQL statement and two runner requests every 5 minutes", () => {
    const without = projectCost({ ...DEFAULTS, schedules: Object.fromEntries(Object.entries(DEFAULTS.schedules).filter(([id]) => id !== "regions")) });
    const withRegions = projectCost(DEFAULTS);
    expect(withRegions.beacon.sqlStatements - without.beacon.sqlStatements).toBe(8_640);
    expect(withRegions.beacon.httpRequests - without.beacon.httpRequests).toBe(17_280);
    expect(withRegions.beacon.redisCommands).toBe(without.beacon.redisCommands);
    expect(withRegions.storeCommandsPerMonth).toBe(without.storeCommandsPerMonth); // probes never touch the store
  });

  it.each([
    ["a page refreshing every 30 s", { pageRefreshSeconds: 30 }, /function invocations: 129,600 a month is over the free tier/],
    ["a scraper every 15 s", { scrapeIntervalSeconds: 15 }, /store commands: 375,840 a month is over this project's budget/],
  ] as const)("warns when %s breaks it", (_what, change, warning) => {
    expect(projectCost({ ...DEFAULTS, ...change }).warnings.join("\n")).toMatch(warning);
  });

  it("reads the tick's schedule from netlify.toml when it overrides the function file", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const dir = await mkdtemp(`${(await import("node:os")).tmpdir()}/sentinel-toml-`);
    await writeFile(`${dir}/netlify.toml`, '[functions]\n  directory = "functions"\n[functions.tick]\n  schedule = "*/2 * * * *"\n');
    expect(await tickScheduleFrom(`${dir}/netlify.toml`)).toBe("*/2 * * * *");
    expect(projectCost({ ...DEFAULTS, tickSchedule: "*/2 * * * *" }).invocations.tick).toBe(21_600);
    expect(await tickScheduleFrom(`${dir}/missing.toml`)).toBe(TICK_SCHEDULE);
  });
});

describe("the projection against what the Upstash bridge counts", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let bridge: UpstashBridge;

  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start();
    const info = testServices();
    bridge = await startUpstashBridge({ redis: () => createDirectRedis(info), token: randomBytes(8).toString("hex") });
  });
  afterAll(async () => {
    await bridge?.close();
    await h?.close();
  });

  it("one simulated hour of ticks on a virtual clock costs exactly the projected store commands", async () => {
    const minute = 60_000;
    const clock = { t: Math.ceil(Date.now() / (60 * minute)) * 60 * minute }; // on the hour: every cadence has a slot at the first tick
    const prefix = `${h.prefix}cost:`;
    const rt = sentinelRuntime(sentinelEnv(h, sandbox, {}, {
      SENTINEL_REDIS_REST_URL: bridge.url, SENTINEL_REDIS_REST_TOKEN: bridge.token, SENTINEL_KEY_PREFIX: prefix,
      CANARY_SIGNING_KEY: generateKeyPair().privateKey,
    }), { now: () => new Date(clock.t), log: { info() {}, warn() {}, error() {} } });
    try {
      bridge.meter.reset();
      const ran: string[] = [];
      let reported = 0;
      for (let i = 0; i < 60; i++) {
        const report = await tick(rt, { write: true });
        expect(report.skipped).toBeUndefined();
        reported += report.storeCommands ?? 0;
        ran.push(...report.results.map((r) => r.probe));
        await sandbox.drain().catch(() => {});
        clock.t += minute;
      }
      const hour = projectCost({ ...DEFAULTS, pageHoursPerDay: 0 }, 60);
      // The month counts a past read for every 15 minutes; an hour begun on a fresh store reads at minutes 15, 30 and 45 only.
      expect(bridge.meter.commands).toBe(hour.storeCommandsPerMonth - 1);
      // What each tick reports spending (and `npm start` prints) adds up to the projection's ticks.
      expect(reported).toBe(hour.storeCommands.ticks! + hour.storeCommands["past reads"]! - 1);
      // Scripts: each canary's release, and each tick's fenced write (one, as no tick of the hour sends).
      expect(bridge.meter.scripts).toBe(hour.storeCommands["canary claims"]! / 2 + 60 * TICK_SCRIPTS.perTick);
      // Each probe ran on its own cadence: health every minute, outbox every 2, receipts every 3, queue, traffic and regions every 5.
      const runs = (id: string) => ran.filter((p) => p === id).length;
      expect([runs("health"), runs("queue"), runs("outbox"), runs("receipts"), runs("traffic"), runs("canary"), runs("regions")]).toEqual([60, 12, 30, 20, 12, 60, 12]);
      const redis = createDirectRedis(testServices());
      const keys = createKeys(prefix);
      const [state, ledger, pastSlots] = [await redis.strlen(keys.state), await redis.strlen(keys.ledger), await redis.strlen(keys.pastSlots)];
      await redis.quit();
      const bytes = bridge.meter.bytesIn + bridge.meter.bytesOut;
      const projected = projectCost({ ...DEFAULTS, pageHoursPerDay: 0, stateBytes: state, ledgerBytes: ledger, pastSlotsBytes: pastSlots }, 60).storeTransferBytesPerMonth;
      console.info(`one hour: ${bridge.meter.commands} commands in ${bridge.meter.requests} requests, ${bytes} bytes (projected from the stored sizes: ${projected}; ${((bytes * 720) / 1024 ** 3).toFixed(2)} GB a month); stored state ${state} B, ledger ${ledger} B, past slots ${pastSlots} B`);
      // The model's transfer, fed the sizes stored at the hour's end, against the bytes on the wire (the state grows over the hour's first ticks).
      expect(bytes / projected).toBeGreaterThan(0.85);
      expect(bytes / projected).toBeLessThan(1.1);
      expect(bytes * 720).toBeLessThanOrEqual(BUDGET.storeTransferBytes);
    } finally {
      await rt.close();
    }
  }, 180_000);
});

describe("the tick's own run time, rolled up per day", () => {
  const DAY = 86_400_000;
  it("keeps a count, a sum, a maximum and a fixed histogram for today and yesterday only", () => {
    let days: TickTimes[] = [];
    const day0 = 20_000 * DAY;
    for (const ms of [40, 120, 120, 700, 12_000]) days = recordTickTime(days, ms, day0 + 1000);
    expect(days).toEqual([{ day: 20_000, n: 5, sumMs: 12_980, maxMs: 12_000, h: [1, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1] }]);
    days = recordTickTime(days, 80, day0 + DAY);
    days = recordTickTime(days, 90, day0 + 2 * DAY);
    expect(days.map((d) => [d.day, d.n])).toEqual([[20_001, 1], [20_002, 1]]);
    expect(JSON.stringify(days).length).toBeLessThan(200);
  });

  it("measures from the last whole day, else today so far", () => {
    let days: TickTimes[] = [];
    const day0 = 20_000 * DAY;
    for (let i = 0; i < 100; i++) days = recordTickTime(days, i < 90 ? 150 : 2_500, day0 + i * 60_000);
    expect(measuredTickTimes(days, day0 + DAY - 1)).toEqual({ day: "2024-10-04", whole: false, ticks: 100, meanMs: 385, maxMs: 2_500, p50AtMostMs: 200, p95AtMostMs: 3_000 });
    expect(measuredTickTimes(recordTickTime(days, 10, day0 + DAY), day0 + DAY + 5)).toMatchObject({ whole: true, ticks: 100 });
    expect(measuredTickTimes(days, day0 + 3 * DAY)).toBeUndefined();
  });
});

describe("`sentinel cost --measured` against what real ticks recorded in the store", () => {
  let bridge: UpstashBridge;
  beforeAll(async () => {
    bridge = await startUpstashBridge({ redis: () => createDirectRedis(testServices()), token: randomBytes(8).toString("hex") });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it("bills the mean of yesterday's ticks, each timed by the tick itself", async () => {
    const minute = 60_000;
    const midnight = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    const clock = { t: midnight - 2 * 60 * minute }; // 22:00 yesterday, on through midnight to 00:30
    const env = { SENTINEL_REDIS_REST_URL: bridge.url, SENTINEL_REDIS_REST_TOKEN: bridge.token, SENTINEL_KEY_PREFIX: `test:cost-measured:${randomBytes(4).toString("hex")}:` };
    const rt = createRuntime(env, { requireBeacon: false, redisRetries: 0 });
    // Two probes whose runs take a known time on the fake clock: 200 ms every minute, 500 ms more every 5 minutes.
    const infos: ProbeInfo[] = [
      { id: "minutely", title: "m", stage: "queue", schedule: "* * * * *", intervalMs: minute },
      { id: "five", title: "f", stage: "worker", schedule: "*/5 * * * *", intervalMs: 5 * minute },
    ];
    const takes: Record<string, number> = { minutely: 200, five: 500 };
    const probes = infos.map((i): AnyProbe => ({ id: i.id, title: i.title, stage: i.stage as AnyProbe["stage"], schedule: i.schedule, settings: z.object({ timeoutMs: z.number() }), run: async () => ({ checks: [] }) }));
    const deps: TickDeps = {
      store: rt.store!, probes, infos, policy: policyFrom(rt.config.settings), now: () => new Date(clock.t), log: { info() {}, warn() {}, error() {} }, channels: [], routes: [],
      settings: { budgetMs: 25_000, probeBudgetMs: 12_000, pendingCap: 50, staleFactor: 2, sendBudgetMs: 12_000, tickIntervalMs: minute },
      measure: async (probe) => {
        const startedAt = new Date(clock.t).toISOString();
        clock.t += takes[probe.id]!;
        return { result: { version: 1, probe: probe.id, status: "pass", startedAt, durationMs: takes[probe.id]!, checks: [] }, state: undefined };
      },
    };
    const out: string[] = [];
    const saved = { ...process.env };
    try {
      for (let i = 0; i < 150; i++) {
        const start = clock.t;
        await runTick(deps, { write: true });
        clock.t = start + minute;
      }
      Object.assign(process.env, env);
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((line: string) => (out.push(line), true)) as typeof process.stdout.write;
      try {
        expect(await costCommand(["--measured", "--json"])).toBe(0);
      } finally {
        process.stdout.write = write;
      }
    } finally {
      process.env = saved;
      await rt.close();
    }
    const json = JSON.parse(out.join(""));
    // Yesterday 22:00-23:59: 120 ticks, 24 of them at 700 ms, 96 at 200 ms.
    expect(json.measured).toEqual({ day: new Date(midnight - 86_400_000).toISOString().slice(0, 10), whole: true, ticks: 120, meanMs: 300, maxMs: 700, p50AtMostMs: 200, p95AtMostMs: 750 });
    expect(json.netlify.tickSeconds).toBe(0.3);
    expect(json.netlify.gbHours.tick).toBeCloseTo(3.6, 9);
    expect(json.netlify.credits.compute).toBeCloseTo(36 + 1.08, 9); // the ticks, and a page open all month refreshing every 300 s
    expect(json.netlify.credits.compute).toBeLessThan(NETLIFY.freeCredits);
  }, 120_000);

  it("refuses --measured together with --tick-seconds", async () => {
    await expect(costCommand(["--measured", "--tick-seconds", "1"])).rejects.toThrow(/drop --tick-seconds, or --measured/);
  });
});

describe("the topology in credits: the per-probe shape projected beside the tick", () => {
  /** `sentinel cost --json ...args`, on the given environment. */
  async function costJson(args: string[], env: Record<string, string> = {}) {
    const out: string[] = [];
    const saved = process.env;
    process.env = { ...saved, SENTINEL_REDIS_REST_URL: "", BEACON_REDIS_REST_URL: "", ...env };
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((line: string) => (out.push(line), true)) as typeof process.stdout.write;
    try {
      await costCommand(["--json", ...args]);
    } finally {
      process.stdout.write = write;
      process.env = saved;
    }
    return JSON.parse(out.join("")) as ReturnType<typeof projectCost>;
  }

  it("counts each probe's runs as invocations of its own function, four store commands each, and the lock waits of a minute's functions at worst", () => {
    const tick = projectCost(DEFAULTS);
    const per = projectCost({ ...DEFAULTS, topology: "per-probe" });
    expect(per.invocations).toEqual({
      tick: 43_200, "probe-health": 43_200, "probe-canary": 43_200, "probe-outbox": 21_600, "probe-receipts": 14_400,
      "probe-queue": 8_640, "probe-regions": 8_640, "probe-traffic": 8_640, "status-page": 21_600, "api-metrics": 0,
    });
    expect(per.invocationsPerMonth - tick.invocationsPerMonth).toBe(148_320);
    expect(per.storeCommands["probe functions"]).toBe(148_320 * 4);
    // Worst case: a minute's k functions start together and take the lock in turn (0.35 s each), trying again every 500 ms.
    expect(per.storeCommands["lock waits"]).toBeGreaterThan(0);
    expect(per.netlify.gbHours).toMatchObject({ tick: (43_200 * 0.15) / 3600, probes: (148_320 * 0.35) / 3600 });
    // The same probe runs: Beacon's requests, statements and queue commands do not change; its connections do (one per function that touches the database).
    expect(per.beacon).toMatchObject({ httpRequests: tick.beacon.httpRequests, sqlProbeStatements: tick.beacon.sqlProbeStatements, redisCommands: tick.beacon.redisCommands });
    expect(per.beacon.sqlConnections).toBeGreaterThan(tick.beacon.sqlConnections);
    expect(per.overFreeTier).toBe(true);
    expect(tick.topology).toBe("tick");
    // A run time given (--measured: each run records its own from before it asks for the lock) holds the waits: not added again.
    const measured = projectCost({ ...DEFAULTS, topology: "per-probe", tickSeconds: 0.4 });
    expect(measured.netlify.gbHours).toMatchObject({ tick: (43_200 * 0.4) / 3600, probes: (148_320 * 0.4) / 3600, waits: 0 });
  });

  it("`sentinel cost` projects SENTINEL_TOPOLOGY; --topology compares without changing it; a bad value is refused", async () => {
    expect((await costJson([])).topology).toBe("tick");
    const set = await costJson([], { SENTINEL_TOPOLOGY: "per-probe" });
    expect(set.topology).toBe("per-probe");
    expect(set.invocations["probe-health"]).toBe(43_200);
    expect((await costJson(["--topology", "tick"], { SENTINEL_TOPOLOGY: "per-probe" })).invocations["probe-health"]).toBeUndefined();
    expect((await costJson(["--topology", "per-probe"])).invocationsPerMonth).toBe(set.invocationsPerMonth);
    await expect(costCommand(["--topology", "per-stage"])).rejects.toThrow(/--topology takes tick or per-probe, not "per-stage"/);
  });
});
