import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { testServices, createDirectRedis } from "./support/env.ts";
import { startUpstashBridge, type UpstashBridge } from "./support/upstash-bridge.ts";
import { BUDGET, projectCost, TICK_SCRIPTS, type CostInputs } from "../shared/cost/model.ts";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import { PROBES } from "../shared/probes/catalog.ts";
import { tick, TICK_SCHEDULE } from "../netlify/tick.ts";
import { tickScheduleFrom } from "../netlify/cli/cost.ts";
import { createKeys } from "../shared/store/keys.ts";

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
    expect(p.storeCommands).toEqual({ ticks: 172_800, "status views": 21_600, scrapes: 0, "canary claims": 5_760 });
    expect(p.storeCommandsPerMonth).toBe(200_160);
    // The canary's release script counts 3 inside instead of 2; each tick's lock script 2 (SET, INCR) and fenced write 3 (GET, MSET, DEL) instead of 1 each.
    expect(p.storeCommandsIfScriptsCountInside).toBe(203_040 + 43_200 * 3);
    expect(p.invocationsPerMonth).toBeLessThanOrEqual(BUDGET.invocations);
    expect(p.storeCommandsIfScriptsCountInside).toBeLessThanOrEqual(BUDGET.storeCommands);
    expect(p.storeTransferBytesPerMonth).toBeLessThanOrEqual(BUDGET.storeTransferBytes);
    expect(p.warnings).toEqual([]);
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
    ["a scraper every 15 s", { scrapeIntervalSeconds: 15 }, /store commands: 372,960 a month is over this project's budget/],
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
      expect(bridge.meter.commands).toBe(hour.storeCommandsPerMonth);
      // What each tick reports spending (and `npm start` prints) adds up to the projection's ticks.
      expect(reported).toBe(hour.storeCommands.ticks);
      // Scripts: each canary's release, and each tick's fenced write (one, as no tick of the hour sends).
      expect(bridge.meter.scripts).toBe(hour.storeCommands["canary claims"]! / 2 + 60 * TICK_SCRIPTS.perTick);
      // Each probe ran on its own cadence: health every minute, outbox every 2, receipts every 3, traffic and regions every 5.
      const runs = (id: string) => ran.filter((p) => p === id).length;
      expect([runs("health"), runs("queue"), runs("outbox"), runs("receipts"), runs("traffic"), runs("canary"), runs("regions")]).toEqual([60, 60, 30, 20, 12, 60, 12]);
      const redis = createDirectRedis(testServices());
      const keys = createKeys(prefix);
      const [state, status] = [await redis.strlen(keys.state), await redis.strlen(keys.status)];
      await redis.quit();
      const perMonth = (bridge.meter.bytesIn + bridge.meter.bytesOut) * 720;
      console.info(`one hour: ${bridge.meter.commands} commands in ${bridge.meter.requests} requests, ${bridge.meter.bytesIn + bridge.meter.bytesOut} bytes (${(perMonth / 1024 ** 3).toFixed(2)} GB a month); stored state ${state} B, status ${status} B`);
      expect(perMonth).toBeLessThanOrEqual(BUDGET.storeTransferBytes);
    } finally {
      await rt.close();
    }
  }, 180_000);
});
