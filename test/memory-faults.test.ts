import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { z } from "zod";
import { check, type CheckStatus, type ProbeResult } from "../shared/result.ts";
import { AlertingSettings } from "../shared/alerting/settings.ts";
import { DEFAULT_ROUTES } from "../shared/channels/routes.ts";
import { ChannelSettings, createChannels, SEND_BUDGET_MS } from "../shared/channels/catalog.ts";
import { measure, type RunOptions } from "../shared/runner.ts";
import { TickSettings } from "../shared/tick/settings.ts";
import { startSlackReceiver } from "./support/slack-receiver.ts";
import type { AnyProbe } from "../shared/probes/types.ts";
import type { ProbeInfo } from "../shared/status/document.ts";
import { runTick, type TickDeps } from "../shared/tick/run.ts";
import { createTickStore } from "../shared/tick/store.ts";
import { createKeys } from "../shared/store/keys.ts";
import { createConsoleLogger } from "../shared/log.ts";
import { createRedactor } from "../shared/redact.ts";
import { renderStatusPage } from "../shared/status/page.ts";
import { createDirectRedis, testServices } from "./support/env.ts";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { decodeDocument, encodeDocument, MAX_INFLATED_BYTES } from "../shared/store/codec.ts";
import { startFaultyProxy, type FaultyProxy } from "./support/faults.ts";

/**
 * Nothing lost silently (issue 20): the tick over the Upstash client and our bridge to the real
 * Redis, behind the fault proxy, with a clock the test moves minute by minute, two probes scheduled
 * every minute whose evidence carries a secret, and the real console logger with the real redactor
 * (its lines captured from console.error). Each case injects one store fault and counts what the
 * status document, the page and the log say about it.
 */

const SECRET = "user:Pa55w0rd-never-logged";
const INFOS: ProbeInfo[] = ["health", "queue"].map((id) => ({ id, title: id, stage: "runner-api", schedule: "* * * * *", intervalMs: 60_000 }));
const probe = (id: string): AnyProbe => ({ id, title: id, stage: "runner-api", schedule: "* * * * *", settings: z.object({ timeoutMs: z.number() }), run: async () => ({ checks: [] }) });
const POLICY = { objectives: [], alerting: AlertingSettings.parse({ defaults: { failuresToTrigger: 1, window: 1, successesToResolve: 1 } }), probes: INFOS };

let proxy: FaultyProxy;
beforeAll(async () => {
  proxy = await startFaultyProxy(testServices().redis.restUrl);
});
afterAll(async () => {
  await proxy?.close();
});
afterEach(() => {
  proxy.behave(() => ({ kind: "pass" }));
  vi.restoreAllMocks();
});

function result(id: string, status: CheckStatus, at: Date): ProbeResult {
  return {
    version: 1, probe: id, status, startedAt: at.toISOString(), durationMs: 3,
    checks: [check({ name: "reach", status, observed: 200, threshold: "200", message: `GET https://${SECRET}@beacon.example.org/health answered` })],
  };
}

/** A sentinel on its own key prefix behind the fault proxy, with a clock `advance` moves (scheduled ticks: no probes named). */
function sentinel() {
  const prefix = `memory-faults:${randomBytes(4).toString("hex")}:`;
  const keys = createKeys(prefix);
  const redis = new Redis({ url: proxy.url, token: testServices().redis.restToken, automaticDeserialization: false, enableTelemetry: false, retry: false });
  // The minute's start plus a few seconds, as Netlify's scheduler fires.
  let clock = Math.floor(Date.now() / 60_000) * 60_000 + 5_000;
  const now = () => new Date(clock);
  const lines: string[] = [];
  const spy = vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
  vi.spyOn(console, "log").mockImplementation(() => {});
  const log = createConsoleLogger(createRedactor([SECRET]));
  const deps: TickDeps = {
    store: createTickStore(redis, keys, { infos: INFOS, staleFactor: 2 }),
    probes: INFOS.map((i) => probe(i.id)), infos: INFOS, policy: POLICY, now, log, channels: [], routes: DEFAULT_ROUTES,
    measure: async (p) => ({ result: result(p.id, "pass", now()), state: undefined }),
    settings: { budgetMs: 25_000, probeBudgetMs: 12_000, pendingCap: 50, staleFactor: 2, sendBudgetMs: SEND_BUDGET_MS, tickIntervalMs: 60_000 },
  };
  return {
    keys, deps, lines, spy,
    advance: (ms: number) => void (clock += ms),
    tick: () => runTick(deps, { write: true }),
    logged: (message: string) => lines.filter((l) => JSON.parse(l).message === message),
  };
}

describe("nothing lost silently", () => {
  it("a one-minute store outage: its results go to the log; the next tick that reaches the store counts the gap and the lost results", async () => {
    const s = sentinel();
    expect((await s.tick()).results).toHaveLength(2);
    s.advance(60_000);
    proxy.behave(() => ({ kind: "drop" })); // the store is gone for this minute
    const blind = await s.tick();
    expect(blind).toMatchObject({ skipReason: "store-unreachable", lost: 2 });
    const notStored = s.logged("result not stored");
    expect(notStored.map((l) => JSON.parse(l).result.probe)).toEqual(["health", "queue"]);
    proxy.behave(() => ({ kind: "pass" }));
    s.advance(60_000);
    const back = await s.tick();
    // 2 probes × the one minute no tick stored; this minute's runs are not missed.
    expect(back.status?.monitoring?.lostResults).toBe(2);
    expect(back.status?.monitoring?.gaps).toEqual([{ from: new Date(Date.parse(back.status!.monitoring!.lastTickAt!) - 120_000).toISOString(), to: back.status!.monitoring!.lastTickAt, missedRuns: 2 }]);
    expect(renderStatusPage(back.status!)).toMatch(/Probe runs missed \([^)]*\): 2; recent gaps:<ul><li>[^<]+: 2 missed runs<\/li>/);
    expect(s.logged("no stored evaluation for a while: probe runs were missed").map((l) => JSON.parse(l).missedRuns)).toEqual([2]);
    // A tick on time is not a gap.
    s.advance(62_000);
    expect((await s.tick()).status?.monitoring?.gaps).toHaveLength(1);
    expect(s.lines.join("\n")).not.toContain(SECRET);
  });

  it("the write that stores the results dropped: each result is logged, redacted, one line per probe, and the tick fails", async () => {
    const s = sentinel();
    await s.tick();
    s.advance(60_000);
    // The tick's write (the fenced script carrying the state) is dropped; the lock's release on the way out passes.
    proxy.behave((_i, body) => (body.includes("'MSET'") && body.includes(s.keys.state) ? { kind: "drop" } : { kind: "pass" }));
    await expect(s.tick()).rejects.toThrow();
    const notStored = s.logged("result not stored").map((l) => JSON.parse(l).result);
    expect(notStored.map((r) => r.probe)).toEqual(["health", "queue"]);
    expect(notStored[0].checks[0].message).toBe("GET https://[redacted]@beacon.example.org/health answered");
    expect(s.logged("the tick's write failed; its results are not stored (results follow)")).toHaveLength(1);
    expect(s.lines.join("\n")).not.toContain(SECRET);
    // The next tick reaches the store: the minute whose write was dropped is counted.
    proxy.behave(() => ({ kind: "pass" }));
    s.advance(60_000);
    expect((await s.tick()).status?.monitoring).toMatchObject({ lostResults: 2, gaps: [{ missedRuns: 2 }] });
  });
});

describe("inflated state is size-limited", () => {
  /** Valid JSON the state's schema would accept (an unknown field is dropped), inflating to `bytes`. */
  const bomb = (bytes: number) => `gz:${gzipSync(`{"pad":"${" ".repeat(bytes - 10)}"}`).toString("base64")}`;

  it(`a document inflating past ${MAX_INFLATED_BYTES / 1024 ** 2} MB is refused; one just under it reads`, () => {
    expect(decodeDocument(bomb(MAX_INFLATED_BYTES - 1_000))).toHaveLength(MAX_INFLATED_BYTES - 1_000);
    const big = bomb(64 * 1024 ** 2);
    expect(big.length).toBeLessThan(120_000); // 64 MB inflated, under 120 KB stored
    expect(decodeDocument(big)).toBeUndefined();
    expect(decodeDocument(`{"pad":"${" ".repeat(MAX_INFLATED_BYTES)}"}`)).toBeUndefined(); // plain JSON held to the same bound
    // Brotli, what the sentinel writes now, is held to the same bound.
    const brotliBomb = `br:${brotliCompressSync(`{"pad":"${" ".repeat(64 * 1024 ** 2 - 10)}"}`).toString("base64")}`;
    expect(brotliBomb.length).toBeLessThan(120_000);
    expect(decodeDocument(brotliBomb)).toBeUndefined();
    expect(JSON.parse(decodeDocument(encodeDocument({ pad: " ".repeat(100_000) }))!)).toEqual({ pad: " ".repeat(100_000) });
  });

  it("a gzip bomb in the stored state: read as unreadable, the tick starts from a fresh state and stores it", async () => {
    const s = sentinel();
    await s.tick();
    const redis = createDirectRedis();
    try {
      await redis.set(s.keys.state, bomb(64 * 1024 ** 2));
    } finally {
      await redis.quit();
    }
    s.advance(60_000);
    const heap = process.memoryUsage().arrayBuffers;
    const report = await s.tick();
    expect(process.memoryUsage().arrayBuffers - heap).toBeLessThan(32 * 1024 ** 2); // never the 64 MB
    expect(report.results).toHaveLength(2);
    expect(s.logged("the stored tick state was unreadable; starting from a fresh one")).toHaveLength(1);
    // What it stored reads again: the bomb is gone.
    const read = await s.deps.store.peek();
    expect([read.damaged, read.state.monitoring.ticks]).toEqual([false, 1]);
  });
});

describe("a slow probe never costs the send", () => {
  it("one probe taking 12 s: its own deadline makes it that probe's error, and the alert another probe raised is sent in the same tick", { timeout: 40_000 }, async () => {
    const slack = await startSlackReceiver();
    try {
      const s = sentinel();
      const tick = TickSettings.parse({}); // the defaults: a 25 s budget, 10 s per probe, 3 s kept to write
      s.deps.settings = { ...s.deps.settings, ...tick };
      s.deps.now = () => new Date(); // the wall clock: the budget is spent for real
      s.deps.channels = createChannels({ statusUrl: "https://sentinel.example.org/status", channels: { slack: { SLACK_WEBHOOK_URL: slack.url } }, settings: { channels: ChannelSettings.parse({}) } }, { fetch: globalThis.fetch, redact: (t) => t, now: () => new Date() });
      // The runner's own measure (its deadline race), over two probes: queue takes 12 s and ignores its abort signal; health fails at once.
      const probes: AnyProbe[] = [
        { ...probe("health"), run: async () => ({ checks: [check({ name: "reach", status: "fail", observed: 503, threshold: "200", message: "unhealthy" })] }) },
        { ...probe("queue"), run: () => new Promise((resolve) => setTimeout(() => resolve({ checks: [check({ name: "reach", status: "pass", observed: 200, threshold: "200", message: "late" })] }), 12_000)) },
      ];
      s.deps.probes = probes;
      const run: Pick<RunOptions, "settings" | "targets" | "redact"> = { settings: { probes: { health: { timeoutMs: 20_000 }, queue: { timeoutMs: 20_000 } }, beacon: {} as RunOptions["settings"]["beacon"] }, targets: {} as RunOptions["targets"], redact: (t) => t };
      s.deps.measure = (p, previousState, timeoutMs) => measure(p, { ...run, deps: { now: () => new Date() } as RunOptions["deps"], previousState, timeoutMs });
      const t0 = Date.now();
      const report = await s.tick();
      const took = Date.now() - t0;
      const queue = report.results.find((r) => r.probe === "queue")!;
      expect(queue.status).toBe("error");
      const deadline = Number(/^probe did not finish within (\d+) ms$/.exec(queue.error ?? "")?.[1]);
      expect(deadline).toBeGreaterThan(tick.probeBudgetMs - 1_000);
      expect(deadline).toBeLessThanOrEqual(tick.probeBudgetMs);
      expect(report.notifications.map((n) => `${n.kind}:${n.alertKey}`)).toEqual(["firing:check/health/reach"]);
      expect(report.delivered).toBe(1);
      expect(slack.received.filter((r) => JSON.stringify(r.body).includes("FIRING"))).toHaveLength(1);
      expect(s.lines.some((l) => l.includes("no time left to send"))).toBe(false);
      expect(took).toBeLessThan(tick.budgetMs);
    } finally {
      await slack.close();
    }
  });
});
