import { afterAll, beforeAll, describe, expect, it } from "vitest";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { httpFunction, type Route } from "../netlify/http/handler.ts";
import { badgeRoute, metricsRoute, pageRoute, statusRoute } from "../netlify/http/status-routes.ts";
import { MANUAL_RUN_WAIT_MS, probeRunRoute } from "../netlify/http/probe-run.ts";
import { createKeys } from "../shared/store/keys.ts";
import { randomUUID } from "node:crypto";
import { remediateRoute } from "../netlify/http/remediate.ts";
import { ConfigError } from "../shared/config/index.ts";
import { PROBE_IDS } from "../shared/probes/catalog.ts";
import { healthProbe } from "../shared/probes/health/index.ts";
import { runProbe } from "../shared/runner.ts";
import { StatusDocument } from "../shared/status/schema.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { recordRun, sentinelEnv, sentinelRuntime, storedLatest } from "./support/sentinel.ts";
import { capturingLogger, startCountingProxy, type CountingProxy } from "./support/http-handlers.ts";
import { createDirectRedis, testServices } from "./support/env.ts";

const ADMIN = "admin-token-0123456789abcdef";
const READER = "status-token-0123456789abcdef";
const PORTAL = "https://portal.example.org";

let h: Harness;
let sandbox: Sandbox;
let rt: Runtime;
const runtimes: Runtime[] = [];

function runtime(extra: Record<string, string> = {}): Runtime {
  const created = sentinelRuntime(sentinelEnv(h, sandbox, {}, { SENTINEL_ADMIN_TOKEN: ADMIN, SENTINEL_CORS_ORIGIN: PORTAL, ...extra }));
  runtimes.push(created);
  return created;
}

let caller = 0;
/** Each call comes from its own IP unless a test says otherwise, so the admin rate limit only bites where tested. */
const call = (route: Route, path: string, init: RequestInit = {}, r: Runtime = rt, ip = `10.0.${Math.floor(++caller / 250)}.${caller % 250}`) =>
  httpFunction(route, () => r)(new Request(`http://sentinel.test${path}`, init), { ip });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start();
  rt = runtime();
  await recordRun(rt, "health");
});
afterAll(async () => {
  for (const r of runtimes) await r.close();
  await h?.close();
});

describe("GET /api/status", () => {
  it("answers the versioned document with short, CDN-shared cache headers", async () => {
    const response = await call(statusRoute, "/api/status");
    expect(response.status).toBe(200);
    const doc = StatusDocument.parse(await response.json());
    const health = doc.probes.find((p) => p.id === "health")!;
    expect(health.latest?.probe).toBe("health");
    expect(health.history[0]).toMatchObject({ t: health.latest!.startedAt, s: health.latest!.status });
    expect(health.timeline.reduce((n, slot) => n + slot.runs, 0)).toBeGreaterThanOrEqual(1);
    expect(doc.stages.map((s) => s.id)).toEqual(["portal", "runner-api", "database", "outbox", "queue", "worker", "receipts"]);
    // Cacheable until the next tick can have replaced the document: at most a minute, at least 5 s.
    const maxAge = Number(/^public, max-age=(\d+)$/.exec(response.headers.get("cache-control") ?? "")?.[1]);
    expect(maxAge).toBeGreaterThanOrEqual(5);
    expect(maxAge).toBeLessThanOrEqual(60);
    expect(response.headers.get("netlify-cdn-cache-control")).toBe(`public, durable, max-age=${maxAge}, stale-while-revalidate=${maxAge * 2}`);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("reads the store in one round trip, as do the badge, the metrics and the page", async () => {
    const proxy: CountingProxy = await startCountingProxy(testServices().redis.restUrl);
    try {
      const counted = runtime({ BEACON_REDIS_REST_URL: proxy.url });
      for (const [route, path] of [[statusRoute, "/api/status"], [badgeRoute, "/api/status/badge"], [metricsRoute, "/api/metrics"], [pageRoute, "/status"]] as const) {
        proxy.reset();
        expect((await call(route, path, {}, counted)).status).toBe(200);
        expect(proxy.count(), path).toBe(1);
      }
    } finally {
      await proxy.close();
    }
  });

  it.each([
    ["history-not-a-number", "/api/status?history=lots", /query\.history: must be a number/],
    ["history-too-large", "/api/status?history=5000", /query\.history/],
    ["parameter-given-twice", "/api/status?history=1&history=2", /give the query parameter "history" once/],
  ])("400 for %s, saying what to fix", async (_rule, path, message) => {
    const response = await call(statusRoute, path);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "bad_request", message: expect.stringMatching(message) });
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it.each([
    ["cache-buster", statusRoute, "/api/status?v=2"],
    ["cache-buster-on-the-badge", badgeRoute, "/api/status/badge?v=2"],
    ["prometheus-scrape-params", metricsRoute, "/api/metrics?module=sentinel&target=x"],
    ["page-with-a-tracking-parameter", pageRoute, "/status?utm_source=readme"],
  ])("ignores unknown parameters on read-only routes: %s", async (_rule, route, path) => {
    expect((await call(route, path)).status).toBe(200);
  });

  it("limits history to what was asked", async () => {
    const doc = StatusDocument.parse(await (await call(statusRoute, "/api/status?history=0")).json());
    expect(doc.probes.every((p) => p.history.length === 0)).toBe(true);
  });

  it("allows the portal's origin only, and answers its preflight", async () => {
    const portal = await call(statusRoute, "/api/status", { headers: { origin: PORTAL } });
    expect(portal.headers.get("access-control-allow-origin")).toBe(PORTAL);
    expect(portal.headers.get("vary")).toContain("Origin");
    const other = await call(statusRoute, "/api/status", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await call(statusRoute, "/api/status", { method: "OPTIONS", headers: { origin: PORTAL, "access-control-request-method": "GET" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET, OPTIONS");
  });

  it("405 for other methods, naming the allowed one", async () => {
    const response = await call(statusRoute, "/api/status", { method: "DELETE" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET");
  });

  describe("when configured private (SENTINEL_PUBLIC_STATUS=false)", () => {
    let priv: Runtime;
    beforeAll(() => void (priv = runtime({ SENTINEL_PUBLIC_STATUS: "false", SENTINEL_STATUS_TOKEN: READER })));

    it.each([
      ["no-token", {}, 401, "unauthorized"],
      ["not-a-bearer-token", { authorization: `Basic ${btoa("a:b")}` }, 401, "invalid_auth_format"],
      ["wrong-token", bearer("not-the-token-at-all-0000"), 403, "invalid_token"],
      ["token-with-a-prefix-of-the-right-one", bearer(READER.slice(0, -1)), 403, "invalid_token"],
    ])("rejects %s", async (_rule, headers, status, error) => {
      const response = await call(statusRoute, "/api/status", { headers }, priv);
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ error });
      if (status === 401) expect(response.headers.get("www-authenticate")).toContain("Bearer");
    });

    it.each([
      ["no-token", {}, 401, "unauthorized"],
      ["wrong-token", bearer("not-the-token-at-all-0000"), 403, "invalid token"],
    ])("answers the badge's %s error as a shields.io badge, keeping the status", async (_rule, headers, status, message) => {
      const response = await call(badgeRoute, "/api/status/badge", { headers }, priv);
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
      if (status === 401) expect(response.headers.get("www-authenticate")).toContain("Bearer");
      // Only the keys shields.io's endpoint schema allows (it rejects unknown ones).
      expect(await response.json()).toStrictEqual({ schemaVersion: 1, label: "beacon pipeline", message, color: "lightgrey", isError: true });
    });

    it.each([["the status token", READER], ["the admin token", ADMIN]])("serves %s, privately cached", async (_name, token) => {
      const response = await call(statusRoute, "/api/status", { headers: bearer(token) }, priv);
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);
      expect(response.headers.get("netlify-cdn-cache-control")).toBeNull();
    });
  });
});

describe("badge, metrics and page", () => {
  it("answers the badge as a badge even when the configuration is broken", async () => {
    const broken = httpFunction(badgeRoute, () => { throw new ConfigError(["BEACON_API_URL: required"]); });
    const response = await broken(new Request("http://sentinel.test/api/status/badge"));
    expect(response.status).toBe(500);
    expect(await response.json()).toStrictEqual({ schemaVersion: 1, label: "beacon pipeline", message: "invalid configuration", color: "lightgrey", isError: true });
  });

  it("GET /api/status/badge is a shields.io endpoint badge", async () => {
    const response = await call(badgeRoute, "/api/status/badge");
    expect(await response.json()).toMatchObject({ schemaVersion: 1, label: "beacon pipeline", message: expect.any(String), color: expect.any(String) });
  });

  it("GET /api/metrics is Prometheus text", async () => {
    const response = await call(metricsRoute, "/api/metrics");
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const names = parsePrometheusTextFormat(await response.text()).map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(["sentinel_probe_state", "sentinel_probe_duration_seconds", "sentinel_overall_state"]));
  });

  it("GET /status is HTML with a strict content security policy", async () => {
    const response = await call(pageRoute, "/status");
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'.*script-src 'sha256-/);
    expect(await response.text()).toContain('data-stage="runner-api"');
  });
});

describe("POST /api/probes/:id/run", () => {
  const run = (path: string, init: RequestInit = {}, r: Runtime = rt, ip?: string) =>
    call(probeRunRoute(), path, { method: "POST", ...init, headers: { ...bearer(ADMIN), ...(init.headers as Record<string, string>) } }, r, ip);

  it.each([
    ["missing-token", {}, 401, "unauthorized"],
    ["wrong-token", bearer("wrong-token-0123456789abcdef"), 403, "invalid_token"],
  ])("rejects %s", async (_rule, headers, status, error) => {
    const response = await call(probeRunRoute(), "/api/probes/health/run", { method: "POST", headers });
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ error });
  });

  it("503 until SENTINEL_ADMIN_TOKEN is configured", async () => {
    const response = await run("/api/probes/health/run", {}, runtime({ SENTINEL_ADMIN_TOKEN: "" }));
    expect(response.status).toBe(503);
    expect((await response.json()).message).toContain("SENTINEL_ADMIN_TOKEN");
  });

  it("404 for an unknown probe, listing the known ones", async () => {
    const response = await run("/api/probes/nope/run");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "unknown_probe", known: PROBE_IDS, message: expect.stringContaining("known probes: health") });
  });

  it.each([
    ["unknown-parameter", "/api/probes/health/run?target=http://evil", {}, /unknown query parameter "target"/],
    ["flag-not-true-or-false", "/api/probes/health/run?dry_run=yes", {}, /query\.dry_run: must be "true" or "false"/],
    ["notify-without-storing", "/api/probes/health/run?dry_run=true&notify=true", {}, /notify needs the result stored/],
    ["a-body", "/api/probes/health/run", { body: '{"url":"http://evil"}', headers: { "content-type": "application/json" } }, /takes no body/],
  ])("400 for %s", async (_rule, path, init, message) => {
    const response = await run(path, init);
    expect(response.status).toBe(400);
    expect((await response.json()).message).toMatch(message);
  });

  it("dry_run=true runs the probe and stores nothing", async () => {
    const fresh = runtime({ SENTINEL_KEY_PREFIX: `${h.prefix}dry:` });
    const response = await run("/api/probes/health/run?dry_run=true", {}, fresh);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ version: 1, stored: false, result: { probe: "health", version: 1 } });
    expect(await fresh.store!.readStatus()).toBeUndefined();
  });

  it("stores the result, and with notify=true runs the fan-in and says what it decided", async () => {
    const response = await run("/api/probes/health/run?notify=true");
    const body = await response.json();
    expect(response.status).toBe(200);
    expect(body.stored).toBe(true);
    expect((await storedLatest(rt, "health"))?.startedAt).toBe(body.result.startedAt);
    expect(body.fanIn).toMatchObject({ consumed: expect.any(Number), notifications: expect.any(Array), firing: expect.any(Array) });
    expect(body.fanIn.consumed).toBeGreaterThanOrEqual(1);
  });

  it("during a long tick: waits for it a few seconds, then answers 202 at once with the running tick's id and Retry-After", { timeout: 30_000 }, async () => {
    const busy = runtime({ SENTINEL_KEY_PREFIX: `${h.prefix}busy${Math.random().toString(36).slice(2, 8)}:` });
    // A tick that took the lock, as the scheduled one does (its fencing token, 30 s), and is still running.
    const token = randomUUID();
    const redis = createDirectRedis();
    try {
      await redis.set(createKeys(busy.config.store!.keyPrefix).lock, token, "PX", 30_000);
    } finally {
      await redis.quit();
    }
    const t0 = Date.now();
    const response = await run("/api/probes/health/run", {}, busy);
    const waited = Date.now() - t0;
    expect(response.status).toBe(202);
    expect(response.headers.get("retry-after")).toBe("10");
    expect(await response.json()).toMatchObject({ version: 1, stored: false, ran: false, runningTick: token.slice(0, 8) });
    expect(waited).toBeGreaterThanOrEqual(MANUAL_RUN_WAIT_MS);
    expect(waited).toBeLessThan(MANUAL_RUN_WAIT_MS + 3_000); // the old route waited 10 s, then 503
    expect(await busy.store!.readStatus()).toBeUndefined(); // nothing ran, nothing stored
  });

  it("429 with Retry-After once a caller is over the limit; other callers are unaffected", async () => {
    const limited = probeRunRoute({ rateLimit: { scope: `t-${Date.now()}`, limit: 2, windowSeconds: 30 } });
    const post = (ip: string) => call(limited, "/api/probes/nope/run", { method: "POST", headers: bearer(ADMIN) }, rt, ip);
    expect((await post("10.9.9.9")).status).toBe(404);
    expect((await post("10.9.9.9")).status).toBe(404);
    const third = await post("10.9.9.9");
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await third.json()).message).toMatch(/at most 2 per 30 s/);
    expect((await post("10.8.8.8")).status).toBe(404);
  });
});

describe("wrong tokens are rate limited per caller", () => {
  const WRONG = "wrong-token-000000000000000000";
  const post = (r: Runtime, token: string, context?: { ip?: string }, headers: Record<string, string> = {}) =>
    httpFunction(probeRunRoute(), () => r)(new Request("http://sentinel.test/api/probes/nope/run", { method: "POST", headers: { ...bearer(token), ...headers } }), context);

  it("after 10 wrong admin tokens the caller gets 429, its right token included; other callers are unaffected", async () => {
    const r = runtime({ SENTINEL_KEY_PREFIX: `${h.prefix}guess-${Date.now()}:` });
    for (let i = 0; i < 10; i++) expect((await post(r, `${WRONG}${i}`, { ip: "10.66.0.1" })).status).toBe(403);
    const locked = await post(r, ADMIN, { ip: "10.66.0.1" });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(500);
    expect((await locked.json()).message).toMatch(/too many wrong tokens: at most 10 per 600 s/);
    expect((await post(r, ADMIN, { ip: "10.66.0.2" })).status).toBe(404); // the right token, another caller
  });

  it("a non-public status route counts wrong status tokens the same way", async () => {
    const r = runtime({ SENTINEL_KEY_PREFIX: `${h.prefix}guess-status-${Date.now()}:`, SENTINEL_PUBLIC_STATUS: "false", SENTINEL_STATUS_TOKEN: READER });
    const get = (token: string) => httpFunction(statusRoute, () => r)(new Request("http://sentinel.test/api/status", { headers: bearer(token) }), { ip: "10.66.1.1" });
    for (let i = 0; i < 10; i++) expect((await get(`${WRONG}${i}`)).status).toBe(403);
    expect((await get(READER)).status).toBe(429);
  });

  it("off Netlify, a rotating x-nf-client-connection-ip does not mint fresh allowances", async () => {
    const r = runtime({ SENTINEL_KEY_PREFIX: `${h.prefix}spoof-${Date.now()}:` });
    for (let i = 0; i < 10; i++) {
      expect((await post(r, `${WRONG}${i}`, undefined, { "x-nf-client-connection-ip": `203.0.113.${i}` })).status).toBe(403);
    }
    expect((await post(r, `${WRONG}x`, undefined, { "x-nf-client-connection-ip": "203.0.113.99" })).status).toBe(429);
  });

  it("off Netlify, the route's own limit is not bypassed by a rotating header either", async () => {
    const r = runtime({ SENTINEL_KEY_PREFIX: `${h.prefix}spoof-ok-${Date.now()}:` });
    for (let i = 0; i < 10; i++) {
      expect((await post(r, ADMIN, undefined, { "x-nf-client-connection-ip": `198.51.100.${i}` })).status).toBe(404);
    }
    expect((await post(r, ADMIN, undefined, { "x-nf-client-connection-ip": "198.51.100.99" })).status).toBe(429);
  });
});

describe("POST /api/remediate/republish input", () => {
  const post = (body: BodyInit | null, headers: Record<string, string> = { "content-type": "application/json" }) =>
    call(remediateRoute(), "/api/remediate/republish", { method: "POST", body, headers: { ...bearer(ADMIN), ...headers } });

  it.each([
    ["unknown-key", '{"execute":false,"force":true}', 400, /body: Unrecognized key: "force"/],
    ["execute-not-a-boolean", '{"execute":"yes"}', 400, /body\.execute: /],
    ["empty-job-list", '{"jobIds":[]}', 400, /body\.jobIds: name at least one job/],
    ["job-id-with-spaces", '{"jobIds":["a b"]}', 400, /body\.jobIds\.0: must be 1-255 printable/],
    ["not-json", "{execute:", 400, /not valid JSON/],
    ["an-array", "[1]", 400, /body: /],
  ])("400 for %s", async (_rule, body, status, message) => {
    const response = await post(body);
    expect(response.status).toBe(status);
    expect((await response.json()).message).toMatch(message);
  });

  it("415 for a body that is not declared JSON", async () => {
    expect((await post('{"execute":false}', { "content-type": "text/plain" })).status).toBe(415);
  });

  it("413 for a body over the limit, declared or streamed without a length", async () => {
    const big = JSON.stringify({ jobIds: Array.from({ length: 2000 }, (_, i) => `job-${i}-${"x".repeat(20)}`) });
    expect((await post(big)).status).toBe(413);
    const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(big)); c.close(); } });
    const response = await call(remediateRoute(), "/api/remediate/republish", {
      method: "POST", body: stream, headers: { ...bearer(ADMIN), "content-type": "application/json" }, duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
  });

  it("answers a dry run with the plan when nothing is stuck", async () => {
    const response = await post(null, {});
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ dryRun: true, plan: { blocked: null, items: [] }, audit: null });
  });
});

describe("errors become responses in one place", () => {
  it("a bug is a 500 with a generic message; the details go to the log only", async () => {
    const log = capturingLogger();
    const broken: Route = { name: "broken", methods: ["GET"], access: "status", handle: async () => { throw new Error("db password is hunter2"); } };
    const response = await call(broken, "/x", {}, { ...rt, log });
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain("hunter2");
    expect(log.lines.join("\n")).toContain("request failed");
  });

  it("a configuration error lists the problems, never the values", async () => {
    const response = await httpFunction(statusRoute, () => { throw new ConfigError(["BEACON_API_URL: required"]); })(new Request("http://x/api/status"));
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: "invalid configuration", problems: ["BEACON_API_URL: required"] });
  });
});
