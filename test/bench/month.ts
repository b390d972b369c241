import { gzipSync } from "node:zlib";
import type { Redis as DirectRedis } from "ioredis";
import { PROBES } from "../../shared/probes/catalog.ts";
import { measure, type Measurement } from "../../shared/runner.ts";
import { createChannels, SEND_BUDGET_MS } from "../../shared/channels/catalog.ts";
import { policyFrom, probeInfos } from "../../shared/config/policy.ts";
import { runTick, type TickDeps } from "../../shared/tick/run.ts";
import { intervalOf } from "../../shared/schedule.ts";
import { measuredTickTimes, SentinelState, type MeasuredTickTimes } from "../../shared/tick/state.ts";
import { readStored } from "../../shared/store/documents.ts";
import type { Keys } from "../../shared/store/keys.ts";
import { createRuntime, type Runtime } from "../../netlify/runtime.ts";
import { TICK_SCHEDULE } from "../../netlify/tick.ts";
import { httpFunction } from "../../netlify/http/handler.ts";
import { pageRoute } from "../../netlify/http/status-routes.ts";
import type { Sandbox } from "../sandbox/index.ts";
import type { UpstashBridge } from "../support/upstash-bridge.ts";
import type { WsProxy } from "../support/ws-proxy.ts";

/**
 * A month of the sentinel on a fake clock, counted where each service counts: the store at its Upstash
 * bridge, Beacon's database at its door (a ws proxy), Beacon's queue Redis and runner at `fetch`.
 *
 * As test/state-diet.test.ts: day 1 minute by minute (1,440 ticks, a status page view every 120 s),
 * its first `liveHours` running the real probes against the sandbox and the rest replaying each
 * probe's last real measurement with a new time; days 2 to 29 a tick an hour (what grows with days,
 * the SLI counters' hour and day fields, grows as it would; these ticks are not counted); day 30
 * minute by minute again, whose last hour is the state as a month of minute ticks leaves it (the
 * timeline's 96 slots and the counters' 7 h of minute fields filled by day 30's own ticks). The store's
 * figures are day 1 counted whole plus days 2 to 30 at day 30's last hour's count; Beacon's side and
 * the tick's run time are counted over the live hours and scaled to the month: every default cadence
 * divides an hour, so a whole number of hours is a whole number of the schedules' periods.
 */
export interface FakeClock {
  /** The simulated time at `anchor`; it moves on with real time inside a tick, so the tick can time itself. */
  base: number;
  anchor: number;
}
export const clockNow = (clock: FakeClock) => new Date(clock.base + (performance.now() - clock.anchor));
export const setClock = (clock: FakeClock, at: number) => Object.assign(clock, { base: at, anchor: performance.now() });

/** Beacon's HTTP requests and queue Redis commands, counted by the bench's `fetch`, with the simulated time of each request. */
export interface BeaconMeter {
  http: number;
  redis: number;
  httpAt: number[];
}

export interface MonthSetup {
  /** The sentinel's environment for the live ticks; its store variables point at `claimsBridge` (the canary's claims are its only store use there). */
  liveEnv: Record<string, string>;
  /** The bench's runtime: its store goes through `storeBridge`. */
  rt: Runtime;
  storeBridge: UpstashBridge;
  claimsBridge: UpstashBridge;
  wire: WsProxy;
  beacon: BeaconMeter;
  clock: FakeClock;
  sandbox: Sandbox;
  redis: DirectRedis;
  keys: Keys;
  /** The first simulated minute: on the hour, so every cadence is due at it. */
  start: number;
  liveHours: number;
  pageRefreshSeconds: number;
}

/** What was counted over a stretch of the month: the store's commands and bytes at its bridge, and what the views served. */
export interface StoreCount {
  ticks: number;
  views: number;
  tickCommands: number;
  viewCommands: number;
  scripts: number;
  tickBytes: number;
  viewBytes: number;
  /** The status page as served: rendered, and gzipped (Netlify's CDN compresses what it serves). */
  servedBytes: number;
  servedGzipBytes: number;
}
const noStore = (): StoreCount => ({ ticks: 0, views: 0, tickCommands: 0, viewCommands: 0, scripts: 0, tickBytes: 0, viewBytes: 0, servedBytes: 0, servedGzipBytes: 0 });

/** What the month counted, each figure in the unit `beacon-sentinel cost` prints. */
export interface MonthCounts {
  liveMinutes: number;
  /** Day 1, counted whole; day 30's last hour (the month's steady state); the canary's claims over the live hours. */
  store: { day1: StoreCount; lastHour: StoreCount; claims: { commands: number; bytes: number } };
  /** Values of every key under the prefix at the month's end, and the two documents the model sizes. */
  storage: { bytes: number; keys: Record<string, number>; stateBytes: number; ledgerBytes: number; pastSlotsBytes: number; pastDaysBytes: number };
  /** Each live tick's run time (ms, wall, the whole runTick call) and each counted view's. */
  liveTickMs: number[];
  viewMs: number[];
  /** The tick's own record of its run time for the live hours (what `beacon-sentinel cost --measured` bills). */
  recorded?: MeasuredTickTimes;
  /** Beacon's side over the live minutes. */
  live: { http: number; queue: number; sqlStatements: number; sqlConnections: number; sqlMinutes: Set<number>; httpMinutes: Set<number> };
}

const MINUTE = 60_000;

export async function simulateMonth(s: MonthSetup): Promise<MonthCounts> {
  const liveMinutes = Math.min(1440, s.liveHours * 60);
  const settings = s.rt.config.settings;
  const templates = new Map<string, Measurement>();
  let liveRt: Runtime | undefined;
  let seed = 7;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const deps: TickDeps = {
    store: s.rt.store!, probes: PROBES, infos: probeInfos(settings), policy: policyFrom(settings), now: () => clockNow(s.clock), log: s.rt.log,
    channels: createChannels(s.rt.config, { fetch: s.rt.deps.fetch, redact: s.rt.redact, now: s.rt.deps.now }), routes: settings.routes,
    settings: { ...settings.tick, staleFactor: settings.alerting.staleFactor, sendBudgetMs: SEND_BUDGET_MS, tickIntervalMs: intervalOf(TICK_SCHEDULE) },
    measure: async (probe, previousState, timeoutMs, manual) => {
      const template = templates.get(probe.id);
      if (liveRt || !template) {
        const r = liveRt ?? s.rt;
        const m = await measure(probe, { deps: r.deps, settings, targets: r.targets, redact: r.redact, previousState, timeoutMs, manual });
        templates.set(probe.id, m);
        return m;
      }
      return { ...template, result: { ...template.result, startedAt: clockNow(s.clock).toISOString(), durationMs: 40 + Math.floor(random() * 400) } };
    },
  };
  const view = httpFunction(pageRoute, () => s.rt);
  const c: MonthCounts = {
    liveMinutes, store: { day1: noStore(), lastHour: noStore(), claims: { commands: 0, bytes: 0 } },
    storage: { bytes: 0, keys: {}, stateBytes: 0, ledgerBytes: 0, pastSlotsBytes: 0, pastDaysBytes: 0 },
    liveTickMs: [], viewMs: [],
    live: { http: 0, queue: 0, sqlStatements: 0, sqlConnections: 0, sqlMinutes: new Set(), httpMinutes: new Set() },
  };
  const meter = s.storeBridge.meter;
  const stored = () => ({ commands: meter.commands, bytes: meter.bytesIn + meter.bytesOut, scripts: meter.scripts });
  s.claimsBridge.meter.reset();
  const viewEvery = Math.round(s.pageRefreshSeconds / 60);

  /** One tick at minute `m` of the month (and the view due then, if `views`), counted into `into` when given. */
  const minute = async (m: number, into?: StoreCount, views = false) => {
    const at = s.start + m * MINUTE;
    const live = m < liveMinutes;
    const before = { ...stored(), http: s.beacon.http, queue: s.beacon.redis, sql: s.wire.meter.statements, conns: s.wire.meter.connections };
    // A runtime per live tick: a tick a minute after the last finds the pool's connection closed (idle 10 s), as a cold start would.
    if (live) liveRt = createRuntime(s.liveEnv, { redisRetries: 0, now: () => clockNow(s.clock), log: s.rt.log });
    setClock(s.clock, at);
    await runTick(deps, { write: true });
    const tookMs = performance.now() - s.clock.anchor;
    const after = stored();
    if (into) Object.assign(into, {
      ticks: into.ticks + 1, tickCommands: into.tickCommands + after.commands - before.commands,
      tickBytes: into.tickBytes + after.bytes - before.bytes, scripts: into.scripts + after.scripts - before.scripts,
    });
    if (live) {
      c.liveTickMs.push(tookMs);
      await liveRt!.close();
      liveRt = undefined;
      await s.sandbox.drain().catch(() => {});
      const w = s.wire.meter;
      if (w.statements > before.sql || w.connections > before.conns) c.live.sqlMinutes.add(m);
      if (s.beacon.http > before.http) c.live.httpMinutes.add(m);
      Object.assign(c.live, {
        http: c.live.http + s.beacon.http - before.http, queue: c.live.queue + s.beacon.redis - before.queue,
        sqlStatements: c.live.sqlStatements + w.statements - before.sql, sqlConnections: c.live.sqlConnections + w.connections - before.conns,
      });
      if (m === liveMinutes - 1) {
        c.recorded = await recordedTickTimes(s, at + MINUTE);
        c.store.claims = { commands: s.claimsBridge.meter.commands, bytes: s.claimsBridge.meter.bytesIn + s.claimsBridge.meter.bytesOut };
      }
    }
    if (into && views && m % viewEvery === 0) {
      const v0 = stored();
      setClock(s.clock, at + 30_000);
      const response = await view(new Request("http://sentinel.test/status", { headers: { accept: "text/html" } }));
      const body = Buffer.from(await response.arrayBuffer());
      c.viewMs.push(performance.now() - s.clock.anchor);
      const v1 = stored();
      Object.assign(into, {
        views: into.views + 1, viewCommands: into.viewCommands + v1.commands - v0.commands, viewBytes: into.viewBytes + v1.bytes - v0.bytes,
        servedBytes: into.servedBytes + body.length, servedGzipBytes: into.servedGzipBytes + gzipSync(body).length,
      });
    }
  };

  for (let m = 0; m < 1440; m++) await minute(m, c.store.day1, true);
  // Days 2 to 29, a tick an hour (told so, so that it records no gaps): the state's day-long parts grow as they would.
  deps.settings.tickIntervalMs = 60 * MINUTE;
  for (let m = 1440; m < 29 * 1440; m += 60) await minute(m);
  deps.settings.tickIntervalMs = intervalOf(TICK_SCHEDULE);
  for (let m = 29 * 1440; m < 30 * 1440; m++) await minute(m, m >= 30 * 1440 - 60 ? c.store.lastHour : undefined, true);
  c.storage = await storedBytes(s.redis, s.keys);
  return c;
}

/** What the tick recorded of its own run time over the live day(s): `--measured`'s figure, read as the CLI reads it. */
async function recordedTickTimes(s: MonthSetup, nowMs: number): Promise<MeasuredTickTimes | undefined> {
  const state = readStored(SentinelState, await s.rt.storeRedis!.get(s.keys.state));
  return state ? measuredTickTimes(state.tickTimes, nowMs) : undefined;
}

/** Every key the sentinel holds under its prefix, by value size (strings' length, hashes' fields and values), and the two documents the model sizes. */
async function storedBytes(redis: DirectRedis, keys: Keys): Promise<MonthCounts["storage"]> {
  const found: Record<string, number> = {};
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${keys.prefix}*`, "COUNT", 1000);
    cursor = next;
    for (const key of batch) {
      const type = await redis.type(key);
      const name = key.slice(keys.prefix.length);
      if (type === "string") found[name] = await redis.strlen(key);
      else if (type === "hash") found[name] = Object.entries(await redis.hgetall(key)).reduce((n, [f, v]) => n + Buffer.byteLength(f) + Buffer.byteLength(v), 0);
      else found[name] = Number(await redis.memory("USAGE", key));
    }
  } while (cursor !== "0");
  const size = (key: string) => found[key.slice(keys.prefix.length)] ?? 0;
  return { bytes: Object.values(found).reduce((a, b) => a + b, 0), keys: found, stateBytes: size(keys.state), ledgerBytes: size(keys.ledger), pastSlotsBytes: size(keys.pastSlots), pastDaysBytes: size(keys.pastDays) };
}
