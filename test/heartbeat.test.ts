import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime, storedState } from "./support/sentinel.ts";
import { closedPort } from "./support/hostile.ts";
import { capturingLogger } from "./support/http-handlers.ts";
import { startFaultyProxy, startHeartbeatReceiver, type FaultyProxy, type HeartbeatReceiver } from "./support/faults.ts";
import { testServices } from "./support/env.ts";
import { heartbeatFailUrl, HEARTBEAT_DEADLINE_MS, HEARTBEAT_TIMEOUT_MS, pingHeartbeat, scheduledRun } from "../netlify/tick.ts";
import { collectSecrets, ConfigError, loadConfig } from "../shared/config/index.ts";
import { createRedactor } from "../shared/redact.ts";
import { PROBES } from "../shared/probes/catalog.ts";
import { scheduledTick } from "../netlify/scheduled.ts";

/**
 * The dead-man's switch: after every scheduled tick the sentinel pings SENTINEL_HEARTBEAT_URL in
 * healthchecks.io's protocol (the URL on success, `<url>/fail` with a reason when the tick could not
 * store its results or crashed), against a local receiver that records every ping.
 */

let h: Harness;
let sandbox: Sandbox;
let beat: HeartbeatReceiver;
let proxy: FaultyProxy;

// Every probe's schedule pushed to once a year, so a scheduled tick after the first runs nothing and
// stays fast; the first one (or one without stored state) runs each probe once.
const QUIET = { schedules: Object.fromEntries(PROBES.map((p) => [p.id, "0 0 1 1 *"])) };

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start();
  beat = await startHeartbeatReceiver();
  proxy = await startFaultyProxy(testServices().redis.restUrl);
});
afterAll(async () => {
  await proxy?.close();
  await beat?.close();
  await h?.close();
});
beforeEach(() => {
  beat.pings.length = 0;
  beat.answer({ status: 200 });
  proxy.behave(() => ({ kind: "pass" }));
});

function runtime(extra: Record<string, string> = {}, options: Parameters<typeof sentinelRuntime>[1] = {}) {
  const log = capturingLogger();
  const env = sentinelEnv(h, sandbox, QUIET, {
    SENTINEL_HEARTBEAT_URL: beat.url,
    SENTINEL_REDIS_REST_URL: proxy.url,
    SENTINEL_REDIS_REST_TOKEN: testServices().redis.restToken,
    SENTINEL_KEY_PREFIX: `${h.prefix}hb${Math.random().toString(36).slice(2, 8)}:`,
    ...extra,
  });
  return { rt: sentinelRuntime(env, { log, ...options }), log };
}

describe("SENTINEL_HEARTBEAT_URL", () => {
  it("is validated, and is a secret as a whole: its check id never reaches an output", () => {
    expect(() => loadConfig({ BEACON_API_URL: "http://x.test", SENTINEL_REDIS_REST_URL: "http://r.test", SENTINEL_REDIS_REST_TOKEN: "t", SENTINEL_HEARTBEAT_URL: "hc-ping.com/abc" }))
      .toThrow(ConfigError);
    try {
      loadConfig({ BEACON_API_URL: "http://x.test", SENTINEL_REDIS_REST_URL: "http://r.test", SENTINEL_REDIS_REST_TOKEN: "t", SENTINEL_HEARTBEAT_URL: "hc-ping.com/abc" });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual(["SENTINEL_HEARTBEAT_URL: must be an http(s) URL"]);
    }
    const url = "https://hc-ping.com/5f1d6a1e-0b8e-4c1e-9a55-2f7d1c0a9b11";
    const redact = createRedactor(collectSecrets({ SENTINEL_HEARTBEAT_URL: url }));
    expect(redact(`fetch ${heartbeatFailUrl(url)} failed`)).toBe("fetch [redacted]/fail failed");
    expect(heartbeatFailUrl("https://hc.example.org/ping/abc/?rid=1")).toBe("https://hc.example.org/ping/abc/fail?rid=1");
  });
});

describe("the heartbeat after a scheduled tick", () => {
  it("a tick that stores its results pings the URL itself, once, saying what ran", { timeout: 60_000 }, async () => {
    const { rt, log } = runtime();
    try {
      const first = await scheduledRun(rt);
      expect(first.results.length).toBeGreaterThan(0);
      expect(beat.pings).toEqual([{ method: "POST", suffix: "", body: expect.stringMatching(/^ran (\S+:(pass|warn|fail|error) ?)+; pending notifications \d+$/) }]);
      const second = await scheduledRun(rt); // nothing due: still a tick that ran and stored
      expect(second.results).toEqual([]);
      expect(beat.pings[1]).toEqual({ method: "POST", suffix: "", body: `ran none due; pending notifications ${second.pending}` });
      expect((await storedState(rt)).monitoring.ticks).toBe(2);
      expect(log.lines.join("\n")).not.toContain(beat.checkId);
    } finally {
      await rt.close();
    }
  });

  it("a store that refuses: /fail with the reason; the results go whole to the log", { timeout: 60_000 }, async () => {
    const port = await closedPort();
    const { rt, log } = runtime({ SENTINEL_REDIS_REST_URL: `http://127.0.0.1:${port}`, SENTINEL_REDIS_REST_TOKEN: "store-token-never-shown" });
    try {
      const report = await scheduledRun(rt);
      expect(report.lost).toBe(report.results.length);
      expect(beat.pings).toHaveLength(1);
      expect(beat.pings[0]).toMatchObject({ method: "POST", suffix: "/fail", body: expect.stringMatching(/^store unreachable: .+; \d+ result\(s\) written to the function log instead$/) });
      expect(log.lines.filter((l) => l.includes('"result not stored"'))).toHaveLength(report.results.length);
      expect(JSON.stringify(beat.pings)).not.toContain("store-token-never-shown");
    } finally {
      await rt.close();
    }
  });

  it("a store that takes the read and drops the write: the tick throws, and /fail says it crashed", { timeout: 60_000 }, async () => {
    const { rt } = runtime();
    try {
      await scheduledRun(rt); // first tick stores (and runs each probe once)
      beat.pings.length = 0;
      // The tick's write (the fenced script carrying the state); the lock's release on the way out passes.
      proxy.behave((_i, body) => (body.includes("'MSET'") && body.includes("tick:state") ? { kind: "drop" } : { kind: "pass" }));
      await expect(scheduledRun(rt)).rejects.toThrow();
      expect(beat.pings).toEqual([{ method: "POST", suffix: "/fail", body: expect.stringMatching(/^tick crashed: /) }]);
      proxy.behave(() => ({ kind: "pass" }));
      await scheduledRun(rt); // recovered: the lock was released by the crashed tick, or has expired
      expect(beat.pings.at(-1)).toMatchObject({ suffix: "" });
    } finally {
      await rt.close();
    }
  });

  it("a store that answers the write with an error: /fail carries the store's reason in a short body, never the tick's write", { timeout: 60_000 }, async () => {
    const { rt } = runtime();
    try {
      await scheduledRun(rt);
      beat.pings.length = 0;
      // Upstash's own answer to a request over its size limit; its client quotes the whole request in the error it throws.
      proxy.behave((_i, body) => (body.includes("'MSET'") && body.includes("tick:state") ? { kind: "answer", status: 400, body: '{"error":"ERR max request size exceeded"}' } : { kind: "pass" }));
      const thrown = await scheduledRun(rt).catch((e: Error) => e);
      expect(String(thrown)).toContain("command was:"); // what the client threw carries the write...
      expect(beat.pings).toEqual([{ method: "POST", suffix: "/fail", body: "tick crashed: ERR max request size exceeded" }]); // ...the ping only the reason
    } finally {
      await rt.close();
    }
  });

  it("a tick that overran its lock stores nothing, and /fail says how many results it kept out", { timeout: 60_000 }, async () => {
    let offset = 0;
    const { rt, log } = runtime({}, { now: () => new Date(Date.now() + offset) });
    try {
      // The store's read takes the lock; then the clock jumps 29 s, as if the probes had run that long.
      proxy.behave((_i, body) => {
        if (body.includes("'NX'")) offset += 29_000;
        return { kind: "pass" };
      });
      const report = await scheduledRun(rt);
      expect(report.results.length).toBeGreaterThan(0);
      expect(report.lost).toBe(report.results.length);
      expect(beat.pings).toEqual([{ method: "POST", suffix: "/fail", body: `tick overran its lock; ${report.lost} result(s) not stored (written to the function log)` }]);
      expect(log.lines.some((l) => l.includes("tick overran its lock"))).toBe(true);
    } finally {
      await rt.close();
    }
  });

  it("two ticks at once: the one that ran pings; the one that found it running does not", { timeout: 60_000 }, async () => {
    const { rt } = runtime();
    try {
      await scheduledRun(rt);
      beat.pings.length = 0;
      proxy.behave((_i, body) => (body.includes("'NX'") ? { kind: "slow", delayMs: 300 } : { kind: "pass" }));
      const [a, b] = await Promise.all([scheduledRun(rt), scheduledRun(rt)]);
      expect([a.skipped, b.skipped].filter(Boolean)).toEqual(["another tick holds the lock"]);
      expect(beat.pings).toEqual([{ method: "POST", suffix: "", body: expect.stringMatching(/^ran none due/) }]);
    } finally {
      await rt.close();
    }
  });
});

describe("the deployed function (functions/tick.ts)", () => {
  it("pings after the scheduler's invocation, not after a local run of named probes", { timeout: 60_000 }, async () => {
    const env = sentinelEnv(h, sandbox, QUIET, {
      SENTINEL_HEARTBEAT_URL: beat.url, SENTINEL_REDIS_REST_URL: proxy.url, SENTINEL_REDIS_REST_TOKEN: testServices().redis.restToken,
      SENTINEL_KEY_PREFIX: `${h.prefix}hbfn:`,
    });
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const handler = scheduledTick();
      const named = await handler(new Request("http://sentinel.test/.netlify/functions/tick", { method: "POST", body: JSON.stringify({ probes: ["health"] }) }));
      expect(named.status).toBe(200);
      expect(beat.pings).toEqual([]);
      const scheduled = await handler(new Request("http://sentinel.test/.netlify/functions/tick", { method: "POST", body: JSON.stringify({ next_run: new Date().toISOString() }) }));
      expect(scheduled.status).toBe(200);
      expect(beat.pings).toHaveLength(1);
      expect(beat.pings[0]).toMatchObject({ method: "POST", suffix: "" });
      expect(await scheduled.text()).not.toContain(beat.checkId);
    } finally {
      for (const key of Object.keys(env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});

describe("a heartbeat that misbehaves never holds or breaks the tick", () => {
  it("a receiver that never answers costs at most the ping's timeout; the tick's report is intact", { timeout: 60_000 }, async () => {
    const { rt, log } = runtime();
    try {
      await scheduledRun(rt);
      beat.answer("hang");
      const started = Date.now();
      const report = await scheduledRun(rt);
      const took = Date.now() - started;
      expect(report.skipped).toBeUndefined();
      expect(took).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT_MS - 100);
      expect(took).toBeLessThan(HEARTBEAT_TIMEOUT_MS + 2_000);
      const warned = log.lines.find((l) => l.includes("heartbeat ping failed"));
      expect(warned).toBeDefined();
      expect(warned).not.toContain(beat.checkId);
    } finally {
      await rt.close();
    }
  });

  it("a receiver that answers 500, or refuses the connection, is a warning, not an error", { timeout: 60_000 }, async () => {
    const { rt, log } = runtime();
    try {
      await scheduledRun(rt);
      beat.answer({ status: 500 });
      await expect(scheduledRun(rt)).resolves.toMatchObject({ lost: 0 });
      expect(log.lines.some((l) => l.includes("the heartbeat refused the ping") && l.includes('"status":500'))).toBe(true);
    } finally {
      await rt.close();
    }
    const port = await closedPort();
    const refused = runtime({ SENTINEL_HEARTBEAT_URL: `http://127.0.0.1:${port}/ping/${beat.checkId}` });
    try {
      await expect(scheduledRun(refused.rt)).resolves.toMatchObject({ lost: 0 });
      const warned = refused.log.lines.find((l) => l.includes("heartbeat ping failed"));
      expect(warned).toContain("ECONNREFUSED");
      expect(warned).not.toContain(beat.checkId);
    } finally {
      await refused.rt.close();
    }
  });

  it("no ping starts once the tick has used up the function's time", async () => {
    const { rt, log } = runtime();
    try {
      await pingHeartbeat(rt, { ok: true, body: "ran none due; pending notifications 0" }, Date.now() - HEARTBEAT_DEADLINE_MS);
      expect(beat.pings).toEqual([]);
      expect(log.lines.some((l) => l.includes("no time left to ping the heartbeat"))).toBe(true);
    } finally {
      await rt.close();
    }
  });
});
