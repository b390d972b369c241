import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { evaluateNow, recordRun, sentinelEnv, sentinelRuntime, storedLatest, storedState } from "./support/sentinel.ts";
import { closedPort, startHostileServer, type HostileServer } from "./support/hostile.ts";
import { capturingLogger } from "./support/http-handlers.ts";
import { startFaultyProxy, type FaultyProxy } from "./support/faults.ts";
import { startSlackReceiver, type SlackReceiver } from "./support/slack-receiver.ts";
import { testServices } from "./support/env.ts";
import { scheduledRun, tick } from "../netlify/tick.ts";
import { httpFunction } from "../netlify/http/handler.ts";
import { probeRunRoute } from "../netlify/http/probe-run.ts";
import { silencesRoute } from "../netlify/http/silences.ts";
import type { Runtime, RuntimeOptions } from "../netlify/runtime.ts";
import { createSqlPool } from "../shared/db.ts";
import { PROBES } from "../shared/probes/catalog.ts";
import { healthProbe } from "../shared/probes/health/index.ts";
import { measure } from "../shared/runner.ts";
import { policyFrom, probeInfos } from "../shared/config/policy.ts";
import { runTick } from "../shared/tick/run.ts";
import { ProbeResult } from "../shared/result.ts";

/**
 * The fault matrix (README "Faults"): each row injects one fault for real and asserts that the work
 * continues, within bounded time, and that nothing is lost (every result stored, or written whole to
 * the log and counted) or repeated (one stored result per run, one Slack message per decision).
 * Rows already covered elsewhere are named in the README table instead of being run twice.
 */

const ADMIN = "faults-admin-token-0123456789";
/** Alert quickly: 2 failures of the last 3 runs trigger. */
const ALERTING = { defaults: { failuresToTrigger: 2, window: 3, successesToResolve: 2, blindToTrigger: 2 } };
/** Every probe pushed to once a year, so a scheduled tick runs only what a test makes due. */
const QUIET = Object.fromEntries(PROBES.map((p) => [p.id, "0 0 1 1 *"]));

let h: Harness;
let sandbox: Sandbox;
let slack: SlackReceiver;
let hostile: HostileServer;
let proxy: FaultyProxy;
let runtimes: Runtime[] = [];

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start();
  slack = await startSlackReceiver();
  proxy = await startFaultyProxy(testServices().redis.restUrl);
  hostile = await startHostileServer({
    "/trickle": { kind: "trickle", status: 200, everyMs: 200 },
    "/huge": { kind: "huge", status: 200, bytes: 50 * 1024 * 1024 },
    "/garbage": { kind: "body", status: 200, body: "{\"status\": \"ok\", \u0000\u0001 not json" },
  });
});
afterAll(async () => {
  await hostile?.close();
  await proxy?.close();
  await slack?.close();
  await h?.close();
});
afterEach(async () => {
  proxy.behave(() => ({ kind: "pass" }));
  slack.script([]);
  await Promise.all(runtimes.map((r) => r.close()));
  runtimes = [];
  await sandbox.incidents.reset();
});

interface SentinelOptions {
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
  prefix?: string;
  runtime?: RuntimeOptions;
}

/** A sentinel on its own key prefix, its store behind the fault proxy, Slack at the receiver. */
function sentinel(o: SentinelOptions = {}) {
  const log = capturingLogger();
  const prefix = o.prefix ?? `${h.prefix}f${randomBytes(3).toString("hex")}:`;
  const env = sentinelEnv(h, sandbox, { alerting: ALERTING, probes: { health: { requestTimeoutMs: 1_500, latencyWarnMs: 10_000 } }, ...o.settings }, {
    SENTINEL_REDIS_REST_URL: proxy.url,
    SENTINEL_REDIS_REST_TOKEN: testServices().redis.restToken,
    SENTINEL_KEY_PREFIX: prefix,
    SLACK_WEBHOOK_URL: slack.url,
    SENTINEL_ADMIN_TOKEN: ADMIN,
    ...o.env,
  });
  // One retry on network errors, as deployed (the test helper's default is none).
  const rt = sentinelRuntime(env, { log, redisRetries: 1, ...o.runtime });
  runtimes.push(rt);
  return { rt, log, prefix };
}

const notStored = (log: { lines: string[] }) => log.lines.filter((l) => l.includes('"message":"result not stored"')).map((l) => ProbeResult.parse(JSON.parse(l).result));
const timed = async <T>(work: () => Promise<T>) => {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
};
/** Runs health twice with /health failing, so the check alert fires on the second tick. */
async function fireHealthAlert(rt: Runtime) {
  await sandbox.incidents.set("health-unhealthy", true);
  await recordRun(rt, "health");
  return tick(rt, { write: true, probes: ["health"], lockWaitMs: 25_000 });
}

describe("the sentinel's own store", () => {
  it("refused: the tick still measures, writes each result whole to the log; the next tick records the gap", { timeout: 60_000 }, async () => {
    let offset = 0;
    const now = () => new Date(Date.now() + offset);
    const up = sentinel({ runtime: { now } });
    await recordRun(up.rt, "health");
    const port = await closedPort();
    const down = sentinel({ prefix: up.prefix, runtime: { now }, env: { SENTINEL_REDIS_REST_URL: `http://127.0.0.1:${port}` } });
    const { value: report, ms } = await timed(() => tick(down.rt, { write: true, probes: ["health"] }));
    expect(ms).toBeLessThan(25_000);
    expect(report).toMatchObject({ lost: 1, skipped: expect.stringMatching(/^store unreachable: /) });
    expect(notStored(down.log)).toEqual(report.results);
    // The store is back three minutes later: the first tick that reaches it records what was missed.
    offset = 3 * 60_000;
    await evaluateNow(up.rt);
    const { monitoring, probes } = await storedState(up.rt);
    expect(monitoring.gaps).toHaveLength(1);
    expect(monitoring.lostResults).toBeGreaterThan(0);
    expect(probes.health!.history).toHaveLength(1); // the stored run, once; the lost one only in the log
  });

  it("silent (accepts, never answers): each request ends at its timeout; the tick ends far inside its budget, nothing dropped", { timeout: 60_000 }, async () => {
    const s = sentinel();
    proxy.behave(() => ({ kind: "silent" }));
    const { value: report, ms } = await timed(() => tick(s.rt, { write: true, probes: ["health"] }));
    // The read gives up at its 2.5 s timeout (a timeout is not retried: the request may have landed), then the probe runs.
    expect(ms).toBeLessThan(12_000);
    expect(report.lost).toBe(1);
    expect(notStored(s.log)).toEqual(report.results);
    proxy.behave(() => ({ kind: "pass" }));
    const stored = await recordRun(s.rt, "health");
    expect((await storedState(s.rt)).probes.health!.history.map((e) => e.t)).toEqual([stored.startedAt]);
  });

  it("slow (1.5 s a request, inside its timeout): stored once, a little later", { timeout: 60_000 }, async () => {
    const s = sentinel();
    proxy.behave(() => ({ kind: "slow", delayMs: 1_500 }));
    const before = proxy.count();
    const { value: result, ms } = await timed(() => recordRun(s.rt, "health"));
    expect(ms).toBeGreaterThanOrEqual(3_000); // the read and the write each waited
    expect(ms).toBeLessThan(20_000);
    expect(proxy.count() - before).toBeLessThanOrEqual(4); // no retry of a slow answer (claims by probes aside)
    expect(await storedLatest(s.rt, "health")).toEqual(result);
    expect((await storedState(s.rt)).probes.health!.history).toHaveLength(1);
  });
});

describe("Beacon's database", () => {
  it("locked (a transaction holds its tables): the outbox probe fails at its statement timeout; health is unaffected; both stored", { timeout: 60_000 }, async () => {
    const s = sentinel({ settings: { beacon: { database: { statementTimeoutMs: 1_500 } } } });
    const pool = createSqlPool({ connectionString: h.db.connectionString, wsProxy: testServices().postgres.wsProxy, max: 1 });
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("LOCK TABLE jobs, outbox, executions IN ACCESS EXCLUSIVE MODE");
      const { value: [outbox, health], ms } = await timed(() => Promise.all([recordRun(s.rt, "outbox"), recordRun(s.rt, "health")]));
      expect(ms).toBeLessThan(15_000);
      expect(outbox.status).toBe("error");
      expect(JSON.stringify(outbox)).toMatch(/statement timeout/);
      expect(health.checks.find((c) => c.name === "database")?.status).toBe("pass");
    } finally {
      await client.query("ROLLBACK").catch(() => {});
      client.release();
      await pool.end();
    }
    const after = await recordRun(s.rt, "outbox");
    expect(after.status).not.toBe("error");
    expect((await storedState(s.rt)).probes.outbox!.history).toHaveLength(2);
  });
});

describe("Beacon's runner API", () => {
  it("trickling (headers, then a byte every 200 ms): the endpoint fails at its timeout; the others are reported", { timeout: 60_000 }, async () => {
    const s = sentinel({ env: { BEACON_HEALTH_URLS: `trickle=${hostile.url}/trickle` } });
    const { value: result, ms } = await timed(() => recordRun(s.rt, "health"));
    expect(ms).toBeLessThan(8_000);
    const byName = Object.fromEntries(result.checks.map((c) => [c.name, c]));
    expect(byName["url:trickle"]?.status).toBe("fail");
    expect(byName["url:trickle"]?.evidence.join(" ")).toContain(`${hostile.url}/trickle`);
    expect(byName["runner-health"]?.status).toBe("pass");
    expect(await storedLatest(s.rt, "health")).toEqual(result);
  });

  it("50 MB body: read up to the cap and failed; the function's memory and time stay small", { timeout: 60_000 }, async () => {
    const s = sentinel({ env: { BEACON_HEALTH_URLS: `huge=${hostile.url}/huge` } });
    const heapBefore = process.memoryUsage().heapUsed;
    const { value: result, ms } = await timed(() => recordRun(s.rt, "health"));
    expect(ms).toBeLessThan(8_000);
    const huge = result.checks.find((c) => c.name === "url:huge");
    expect(huge).toMatchObject({ status: "fail", message: expect.stringContaining("body larger than 262144 bytes") });
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(40 * 1024 * 1024);
    expect(await storedLatest(s.rt, "health")).toEqual(result);
  });

  it("malformed JSON: the endpoint fails with a body excerpt; the result is stored", { timeout: 60_000 }, async () => {
    const s = sentinel({ env: { BEACON_HEALTH_URLS: `garbage=${hostile.url}/garbage` } });
    const result = await recordRun(s.rt, "health");
    const garbage = result.checks.find((c) => c.name === "url:garbage");
    expect(garbage?.status).toBe("fail");
    expect(JSON.stringify(garbage)).toContain("not json");
    expect(await storedLatest(s.rt, "health")).toEqual(result);
  });
});

describe("Slack, seen from the tick", () => {
  it("refused: the message stays pending and is counted; once Slack is back it goes out exactly once", { timeout: 90_000 }, async () => {
    const port = await closedPort();
    const down = sentinel({ env: { SLACK_WEBHOOK_URL: `http://127.0.0.1:${port}/services/T0/B0/x` } });
    const fired = await fireHealthAlert(down.rt);
    expect(fired.notifications.map((n) => n.kind)).toEqual(["firing"]);
    expect(fired.delivered).toBe(0);
    const state = await storedState(down.rt);
    expect(state.alerts.pending).toHaveLength(1);
    expect(state.monitoring.failedSends).toBe(1);
    const start = slack.received.length;
    const up = sentinel({ prefix: down.prefix });
    expect((await evaluateNow(up.rt)).delivered).toBe(1);
    expect((await evaluateNow(up.rt)).delivered).toBe(0);
    expect(slack.received.length - start).toBe(1);
  });

  it("silent (takes the message, never answers): delivery unknown, counted, never repeated", { timeout: 90_000 }, async () => {
    const s = sentinel();
    const start = slack.requests.length;
    // One answer that never comes in time: the send's 12 s budget leaves no room for its one retry.
    slack.script([{ status: 200, delayMs: 60_000 }]);
    const { value: fired, ms } = await timed(() => fireHealthAlert(s.rt));
    expect(ms).toBeLessThan(25_000);
    expect(fired.delivered).toBe(0);
    const state = await storedState(s.rt);
    expect(state.alerts.pending).toEqual([]);
    expect(state.monitoring.unknownDeliveries).toBe(1);
    await evaluateNow(s.rt);
    expect(slack.requests.length - start).toBe(1); // Slack posted it on arrival; nothing was sent again
  });
});

describe("the sentinel's clock", () => {
  it("jumps an hour ahead, then back: probes run on schedule again at once, each run stored once", { timeout: 60_000 }, async () => {
    let offset = 0;
    const schedules = { ...QUIET, health: "* * * * *" };
    const s = sentinel({ settings: { schedules }, runtime: { now: () => new Date(Date.now() + offset) } });
    await scheduledRun(s.rt); // the first tick runs every probe once (each one's latest slot)
    offset = 3_600_000;
    expect((await scheduledRun(s.rt)).results.map((r) => r.probe)).toEqual(["health"]);
    offset = 0; // NTP corrects the clock: the stored slot is now an hour in the future
    expect((await scheduledRun(s.rt)).results.map((r) => r.probe)).toEqual(["health"]);
    expect((await scheduledRun(s.rt)).results).toEqual([]); // and not again within the same minute
    expect((await storedState(s.rt)).probes.health!.history).toHaveLength(3);
  });
});

describe("two invocations at once", () => {
  const call = (rt: Runtime, route: ReturnType<typeof probeRunRoute>, method: string, path: string, body?: unknown) =>
    httpFunction(route, () => rt)(new Request(`http://sentinel.test${path}`, {
      method, headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }), { ip: `10.1.0.${Math.floor(Math.random() * 250)}` });

  it("POST /api/probes/health/run twice: both runs stored, in order; the alert they raise is sent once", { timeout: 60_000 }, async () => {
    const s = sentinel();
    await sandbox.incidents.set("health-unhealthy", true);
    const start = slack.received.length;
    const [a, b] = await Promise.all([call(s.rt, probeRunRoute(), "POST", "/api/probes/health/run?notify=true"), call(s.rt, probeRunRoute(), "POST", "/api/probes/health/run?notify=true")]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const runs = [(await a.json()).result.startedAt, (await b.json()).result.startedAt];
    expect(new Set(runs).size).toBe(2);
    expect((await storedState(s.rt)).probes.health!.history.map((e) => e.t).sort()).toEqual([...runs].sort());
    expect(slack.received.length - start).toBe(1);
  });

  it("POST /api/silences twice: both silences kept, neither overwritten", { timeout: 30_000 }, async () => {
    const s = sentinel();
    const [a, b] = await Promise.all([
      call(s.rt, silencesRoute(), "POST", "/api/silences", { probe: "health", durationMinutes: 30, comment: "one" }),
      call(s.rt, silencesRoute(), "POST", "/api/silences", { probe: "queue", durationMinutes: 30, comment: "two" }),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    const listed = (await (await call(s.rt, silencesRoute(), "GET", "/api/silences")).json()) as { silences: { comment?: string }[] };
    expect(listed.silences.map((x) => x.comment).sort()).toEqual(["one", "two"]);
  });
});

describe("a probe that throws", () => {
  it("becomes an error result; the tick stores it and every other probe's result", { timeout: 60_000 }, async () => {
    const s = sentinel();
    const settings = s.rt.config.settings;
    const thrower = { ...healthProbe, id: "thrower", run: async () => { throw new TypeError("cannot read properties of undefined (reading 'rows')"); } };
    const report = await runTick({
      store: s.rt.store!,
      probes: [healthProbe, thrower],
      infos: probeInfos(settings),
      measure: (probe, previousState, timeoutMs) => measure(probe, {
        deps: s.rt.deps, settings: { ...settings, probes: { ...settings.probes, thrower: settings.probes.health } as typeof settings.probes }, targets: s.rt.targets, redact: s.rt.redact, previousState, timeoutMs,
      }),
      policy: policyFrom(settings),
      channels: [],
      routes: settings.routes,
      now: s.rt.deps.now,
      log: s.log,
      settings: { ...settings.tick, staleFactor: settings.alerting.staleFactor, sendBudgetMs: 12_000, tickIntervalMs: 60_000 },
    }, { write: true, probes: ["thrower", "health"] });
    expect(report.results.map((r) => [r.probe, r.status])).toEqual([["thrower", "error"], ["health", "pass"]]);
    expect(report.results[0]!.error).toBe("probe crashed: cannot read properties of undefined (reading 'rows')");
    const state = await storedState(s.rt);
    expect(state.probes.thrower!.latest).toEqual(report.results[0]);
    expect(state.probes.health!.latest).toEqual(report.results[1]);
  });
});
