import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunction, type Route } from "../netlify/http/handler.ts";
import { badgeRoute, historyRoute, metricsRoute, pageRoute, statusRoute } from "../netlify/http/status-routes.ts";
import { probeRunRoute } from "../netlify/http/probe-run.ts";
import { remediateRoute } from "../netlify/http/remediate.ts";
import { silencesRoute } from "../netlify/http/silences.ts";
import { PROBE_IDS } from "../shared/probes/catalog.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { sentinelRuntime } from "./support/sentinel.ts";
import { capturingLogger } from "./support/http-handlers.ts";
import { closedPort } from "./support/hostile.ts";
import { testServices } from "./support/env.ts";
import { randomPrefix } from "./support/isolation.ts";

/**
 * A seeded fuzz of every HTTP route: methods, paths, query strings, headers, tokens and bodies drawn
 * from a fixed-seed generator (a failure names its seed and request, and reruns identically). Every
 * answer must be 2xx, 3xx or 4xx: a 5xx means input reached code that did not expect it. Beacon is
 * configured at a closed port and without a database, so a request that does pass validation runs
 * for real and fails fast.
 */
const SEED = Number(process.env.SENTINEL_FUZZ_SEED ?? 20261130);
const REQUESTS = 1_200;
const ADMIN = "fuzz-admin-token-0123456789";
const READER = "fuzz-status-token-0123456789";

/** mulberry32: small, fast, and the same sequence on every machine. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

type Gen = ReturnType<typeof generator>;

const NASTY = ["", " ", "%", "%00", "%zz", "..", "../../etc/passwd", "\u0000", "\u202e", "😀", "a".repeat(300), "<script>", "' OR 1=1 --", "${x}", "-1", "1e309", "NaN", "null", "[]", "{}", "true"];

function value(g: Gen): string {
  switch (g.int(5)) {
    case 0: return g.pick(NASTY);
    case 1: return String(g.int(1000) - 500);
    case 2: return g.pick(["true", "false", "0", "1", "yes"]);
    case 3: return g.pick(["health", "queue", "outbox", "runner-health", "error-rate", "x"]) + (g.int(2) ? "" : String(g.int(99)));
    default: return Array.from({ length: g.int(12) }, () => String.fromCharCode(32 + g.int(95))).join("");
  }
}

function jsonValue(g: Gen, depth = 0): unknown {
  switch (depth > 2 ? g.int(4) : g.int(7)) {
    case 0: return null;
    case 1: return g.int(3) === 0 ? g.next() * 1e12 - 5e11 : g.int(200) - 100;
    case 2: return g.next() < 0.5;
    case 3: return value(g);
    case 4: return Array.from({ length: g.int(4) }, () => jsonValue(g, depth + 1));
    default: {
      const keys = ["execute", "jobIds", "limit", "probe", "check", "slo", "durationMinutes", "comment", "startsAt", "endsAt", "force", value(g)];
      return Object.fromEntries(Array.from({ length: g.int(5) }, () => [g.pick(keys), jsonValue(g, depth + 1)]));
    }
  }
}

function body(g: Gen): BodyInit | undefined {
  switch (g.int(6)) {
    case 0: return undefined;
    case 1: return JSON.stringify(jsonValue(g));
    case 2: return g.pick(['{"execute":false}', '{"execute":true,"jobIds":["a"]}', `{"probe":"${g.pick(PROBE_IDS)}","durationMinutes":${g.int(300) - 10}}`, '{"slo":"error-rate","durationMinutes":5}']);
    case 3: return new Uint8Array(Array.from({ length: g.int(64) }, () => g.int(256)));
    case 4: return "x".repeat(g.pick([0, 1, 4097, 20_000]));
    default: return value(g);
  }
}

interface Target { route: Route; paths: (g: Gen) => string }

function targets(): Target[] {
  const query = (g: Gen, names: string[]) => {
    const n = g.int(4);
    if (n === 0) return "";
    return `?${Array.from({ length: n }, () => `${encodeURIComponent(g.pick([...names, value(g)]))}=${encodeURIComponent(value(g))}`).join("&")}`;
  };
  return [
    { route: statusRoute, paths: (g) => `/api/status${query(g, ["history"])}` },
    { route: badgeRoute, paths: (g) => `/api/status/badge${query(g, [])}` },
    { route: metricsRoute, paths: (g) => `/api/metrics${query(g, [])}` },
    { route: pageRoute, paths: (g) => `/status${query(g, [])}` },
    { route: historyRoute, paths: (g) => `/api/history${query(g, ["days", "stage", "check"])}` },
    // A real probe id only now and then: those run for real (against a closed port).
    { route: probeRunRoute(), paths: (g) => `/api/probes/${g.int(25) === 0 ? g.pick(PROBE_IDS) : encodeURIComponent(value(g))}/run${query(g, ["dry_run", "notify"])}` },
    { route: remediateRoute({ sleep: async () => {} }), paths: (g) => `/api/remediate/republish${query(g, ["execute"])}` },
    { route: silencesRoute(), paths: (g) => (g.int(2) ? "/api/silences" : `/api/silences/${encodeURIComponent(value(g))}`) + query(g, []) },
  ];
}

let runtimes: { name: string; rt: Runtime }[] = [];
const log = capturingLogger();

beforeAll(async () => {
  const s = testServices();
  const base = {
    BEACON_API_URL: `http://127.0.0.1:${await closedPort()}`,
    BEACON_REDIS_REST_URL: s.redis.restUrl, BEACON_REDIS_REST_TOKEN: s.redis.restToken,
    SENTINEL_KEY_PREFIX: `${randomPrefix()}fuzz:`, SENTINEL_ADMIN_TOKEN: ADMIN, SENTINEL_CORS_ORIGIN: "https://portal.example.org",
    SENTINEL_SETTINGS: JSON.stringify({ probes: { health: { requestTimeoutMs: 500 } }, remediation: { adminIntervalMs: 1 } }),
  };
  runtimes = [
    { name: "public", rt: sentinelRuntime(base, { log }) },
    { name: "private", rt: sentinelRuntime({ ...base, SENTINEL_PUBLIC_STATUS: "false", SENTINEL_STATUS_TOKEN: READER }, { log }) },
    { name: "summary", rt: sentinelRuntime({ ...base, SENTINEL_PUBLIC_STATUS: "summary" }, { log }) },
  ];
});
afterAll(async () => {
  for (const { rt } of runtimes) {
    const keys = await rt.storeRedis!.keys(`${rt.config.store!.keyPrefix}*`);
    if (keys.length) await rt.storeRedis!.del(...keys);
    await rt.close();
  }
});

describe(`seeded fuzz of every HTTP route (seed ${SEED}, ${REQUESTS} requests)`, () => {
  it("answers only 2xx, 3xx or 4xx", async () => {
    const g = generator(SEED);
    const all = targets();
    const statuses = new Map<number, number>();
    const bad: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const { route, paths } = all[i % all.length]!;
      const { name, rt } = g.pick(runtimes);
      // Mostly the route's own methods, so most requests get past the method check.
      const method = g.int(5) ? g.pick(route.methods) : g.pick(["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"]);
      const headers: Record<string, string> = {};
      const auth = g.int(6);
      if (auth === 1 || auth === 2) headers.authorization = `Bearer ${ADMIN}`;
      if (auth === 3) headers.authorization = `Bearer ${READER}`;
      if (auth === 4) headers.authorization = g.pick(["Bearer", "Basic abc", `Bearer ${value(g)}`, "bearer  x y", "Bearer \u00ff\u00fe"]).replace(/[^\t\x20-\x7e\x80-\xff]/g, "?");
      if (g.int(2)) headers["content-type"] = g.pick(["application/json", "text/plain", "application/json; charset=utf-8", "multipart/form-data", value(g).replace(/[^\x20-\x7e]/g, "")]);
      if (g.int(4) === 0) headers.origin = g.pick(["https://portal.example.org", "https://evil.example", "null"]);
      if (g.int(4) === 0) headers["x-nf-client-connection-ip"] = `203.0.113.${g.int(256)}`;
      const payload = method === "GET" || method === "HEAD" ? undefined : body(g);
      const path = paths(g);
      let request: Request;
      try {
        request = new Request(`http://sentinel.test${path}`, { method, headers, body: payload });
      } catch {
        continue; // a request fetch itself refuses to build never reaches a function
      }
      const response = await httpFunction(route, () => rt)(request, { ip: `10.${g.int(4)}.${g.int(256)}.${g.int(256)}` });
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status >= 500) bad.push(`#${i} ${name} ${method} ${path} -> ${response.status}`);
    }
    const sent = [...statuses.values()].reduce((a, b) => a + b, 0);
    console.log(`[fuzz] seed ${SEED}: ${sent} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    expect(bad).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(1_000);
    // The fuzz reached past validation, not only into 4xx.
    expect([...statuses.keys()].filter((s) => s >= 200 && s < 300).length).toBeGreaterThan(0);
  }, 180_000);
});
