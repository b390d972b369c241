import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { testServices, createDirectRedis } from "./support/env.ts";
import { startUpstashBridge, type UpstashBridge } from "./support/upstash-bridge.ts";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import { PROBES } from "../shared/probes/catalog.ts";
import { measure } from "../shared/runner.ts";
import { createChannels, SEND_BUDGET_MS } from "../shared/channels/catalog.ts";
import { policyFrom, probeInfos } from "../shared/config/policy.ts";
import { runTick, type TickDeps } from "../shared/tick/run.ts";
import { intervalOf } from "../shared/schedule.ts";
import { createKeys } from "../shared/store/keys.ts";
import { encodeDocument } from "../shared/store/codec.ts";
import type { Measurement } from "../shared/runner.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { TICK_SCHEDULE } from "../netlify/tick.ts";
import type { SentinelState } from "../shared/tick/state.ts";

/**
 * The tick's state over a simulated month: real ticks (runTick over the Upstash client, a bridge and
 * real Redis) on a fake clock. The first minutes run the real probes against a sandbox; after that each
 * probe's last real measurement is replayed with a new time and a varying duration, so a month of
 * minutes runs in seconds with results shaped like real ones.
 */
const MINUTE = 60_000;

describe("the tick's state keeps its size over time", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let bridge: UpstashBridge;
  let rt: Runtime;
  const clock = { t: 0 };

  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start();
    bridge = await startUpstashBridge({ redis: () => createDirectRedis(testServices()), token: randomBytes(8).toString("hex") });
    clock.t = Math.ceil(Date.now() / (60 * MINUTE)) * 60 * MINUTE;
    rt = sentinelRuntime(sentinelEnv(h, sandbox, {}, {
      SENTINEL_REDIS_REST_URL: bridge.url, SENTINEL_REDIS_REST_TOKEN: bridge.token, SENTINEL_KEY_PREFIX: `${h.prefix}diet:`,
      CANARY_SIGNING_KEY: generateKeyPair().privateKey,
    }), { now: () => new Date(clock.t), log: { info() {}, warn() {}, error() {} } });
  });
  afterAll(async () => {
    await rt?.close();
    await bridge?.close();
    await h?.close();
  });

  // Slow by design (about 3,500 ticks, 1-4 minutes on a busy machine): the only way to know the size after a month is to get there.
  it("after an hour, a day and thirty days of ticks", async () => {
    const settings = rt.config.settings;
    const templates = new Map<string, Measurement>();
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const live = { on: true };
    const deps: TickDeps = {
      store: rt.store!, probes: PROBES, infos: probeInfos(settings), policy: policyFrom(settings), now: rt.deps.now, log: rt.log,
      channels: createChannels(rt.config, { fetch: rt.deps.fetch, redact: rt.redact, now: rt.deps.now }), routes: settings.routes,
      settings: { ...settings.tick, staleFactor: settings.alerting.staleFactor, sendBudgetMs: SEND_BUDGET_MS, tickIntervalMs: intervalOf(TICK_SCHEDULE) },
      measure: async (probe, previousState, timeoutMs) => {
        const template = templates.get(probe.id);
        if (live.on || !template) {
          const m = await measure(probe, { deps: rt.deps, settings, targets: rt.targets, redact: rt.redact, previousState, timeoutMs });
          templates.set(probe.id, m);
          return m;
        }
        const durationMs = 40 + Math.floor(random() * 400);
        return { ...template, result: { ...template.result, startedAt: new Date(clock.t).toISOString(), durationMs } };
      },
    };
    const redis = createDirectRedis(testServices());
    const keys = createKeys(`${h.prefix}diet:`);
    const sizes: Record<string, { stored: number; parts: Record<string, number> }> = {};
    const sizeNow = async (label: string) => {
      const stored = await redis.strlen(keys.state);
      const state = (await rt.store!.peek()).state as SentinelState;
      const part = (v: unknown) => encodeDocument(v).length;
      const st = (await rt.store!.readStatus())!;
      (await import("node:fs")).writeFileSync(`/tmp/dump-${label.replace(/ /g, "")}.json`, JSON.stringify({ state, status: await redis.get(keys.status), ledger: await redis.get(keys.ledger) }));
      console.info(label, "STATUS", await redis.strlen(keys.status), await redis.strlen(keys.pastSlots), await redis.strlen(keys.pastDays), JSON.stringify({ whole: part(st), latest: part(st.probes.map((p) => p.latest)), history: part(st.probes.map((p) => p.history)), slos: part(st.slos), alerts: part(st.alerts), regions: part(st.regions), incidents: part(st.recentIncidents), days: part(st.history) }));
      sizes[label] = {
        stored,
        parts: {
          timeline: part(Object.values(state.probes).map((p) => p.timeline)), history: part(Object.values(state.probes).map((p) => p.history)),
          latest: part(Object.values(state.probes).map((p) => [p.latest, p.state])), counters: part(state.counters), alerts: part(state.alerts), monitoring: part(state.monitoring), today: part(state.today),
        },
      };
    };
    let ticks = 0;
    const hourly: Record<string, number> = {};
    /** `n` ticks `every` ms apart; the bridge's transfer over the last hour of them is kept under `label`. */
    const run = async (n: number, every = MINUTE, label?: string) => {
      for (let i = 0; i < n; i++) {
        if (label && i === n - 60) bridge.meter.reset();
        await runTick(deps, { write: true });
        ticks++;
        if (live.on) await sandbox.drain().catch(() => {});
        if (ticks === 10) live.on = false;
        clock.t += every;
        deps.settings.tickIntervalMs = every;
      }
      if (label) hourly[label] = bridge.meter.bytesIn + bridge.meter.bytesOut;
    };
    try {
      await run(60, MINUTE, "1 h");
      await sizeNow("1 h");
      await run(23 * 60, MINUTE, "24 h");
      await sizeNow("24 h");
      // Days 2 to 29 hourly (what grows with days is kept per hour and per day), then day 30 minute by minute.
      await run(28 * 24, 60 * MINUTE);
      await run(24 * 60, MINUTE, "30 d");
      await sizeNow("30 d");
      console.info(JSON.stringify({ sizes, transferPerHour: hourly }));
      const { "1 h": hour, "24 h": day, "30 d": month } = sizes as Record<string, { stored: number; parts: Record<string, number> }>;
      // Each part is capped: what a probe remembers (latest, 20 history lines, 96 timeline slots of six
      // numbers each), the alerts, and SLI counters per minute for 7 h, per hour for 4 days, per day for 31.
      // Measured: 11.8 KB after an hour, 25.8 KB after a day, 29.2 KB after 30 days (37.5 KB after a day
      // when every slot listed each run's duration).
      expect(day!.stored).toBeLessThan(28_000);
      expect(month!.stored).toBeLessThan(day!.stored * 1.2);
      // The timeline is full after a day and stays that size: a slot's runs are rolled up, not listed.
      expect(month!.parts.timeline!).toBeLessThan(day!.parts.timeline! * 1.05);
      expect(day!.parts.timeline!).toBeLessThan(8_000);
      // What still grows past a day: the SLI counters' hour and day fields, until 4 and 31 days.
      expect(month!.parts.counters!).toBeGreaterThan(day!.parts.counters!);
      expect(month!.parts.counters!).toBeLessThan(10_000);
      expect(hour!.stored).toBeLessThan(day!.stored);
    } finally {
      await redis.quit();
    }
  }, 900_000);
});
