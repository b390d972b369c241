import { z } from "zod";
import { HealthSettings as Settings, databaseEveryMinutesOf } from "./settings.ts";
import { HEALTH } from "./definition.ts";
import { check, type Check } from "../../result.ts";
import { boundedFetch, excerpt, parseJson } from "../../http.ts";
import { GenericHealthBody, HealthBody, ReadyBody } from "../../beacon/health.ts";
import { safeUrl } from "../../redact.ts";
import { errorText } from "../../error-text.ts";
import type { Probe, ProbeContext } from "../types.ts";

/**
 * Every dependency has its own budget, all running at once, each capped at 90% of the probe's: a
 * dependency that never answers costs its own check (failed, "no answer within N ms") and never the
 * others', and the probe always has time left to report.
 */
type Ctx = ProbeContext<Settings>;

/** How one endpoint's body is judged once it answered. */
type Judge = (status: number, body: unknown, raw: { json: boolean; contentType: string }) => { status: Check["status"]; message: string };

export const healthProbe: Probe<Settings> & typeof HEALTH = {
  ...HEALTH,
  async run(ctx) {
    const { apiUrl, healthUrls } = ctx.targets;
    const cap = (ms: number) => Math.max(1, Math.min(ms, Math.floor(ctx.settings.timeoutMs * 0.9)));
    const requestTimeoutMs = cap(ctx.settings.requestTimeoutMs);
    // The fetch itself stops at requestTimeoutMs; the budget is a backstop for a fetch that ignores its signal.
    const endpoint = (name: string, url: string, judge: Judge) =>
      withinBudget(name, safeUrl(url), requestTimeoutMs + FETCH_GRACE_MS, probeEndpoint(ctx, name, url, judge, requestTimeoutMs));
    const pending: Promise<Check>[] = [];
    if (apiUrl) {
      pending.push(endpoint("runner-health", new URL(ctx.beacon.routes.health, apiUrl).href, judgeHealth));
      pending.push(endpoint("runner-ready", new URL(ctx.beacon.routes.ready, apiUrl).href, judgeReady));
      // /ready is not trusted alone: a runner started without its database answers it 200 (no DB handle to
      // ping, handlers_health.go:89-94). The newest job, read through the runner, touches its Postgres.
      pending.push(endpoint("runner-db", new URL(`${ctx.beacon.routes.jobs}?limit=1`, apiUrl).href, judgeRunnerDb));
    }
    for (const { name, url } of healthUrls) pending.push(endpoint(`url:${name}`, url, judgeGeneric));
    const database = () => withinBudget("database", ctx.targets.databaseLabel ?? "database", cap(ctx.settings.databaseTimeoutMs), databaseCheck(ctx));
    const redis = () => withinBudget("redis", ctx.targets.redisLabel ?? "redis", cap(ctx.settings.redisTimeoutMs), redisCheck(ctx));
    const minute = Math.floor(ctx.deps.now().getTime() / 60_000);
    const dueEvery = (n: number) => ctx.manual === true || minute % n === 0;
    const databaseDue = dueEvery(databaseEveryMinutesOf(ctx.settings, ctx.beacon));
    const redisDue = dueEvery(ctx.settings.redisEveryMinutes);
    if (databaseDue) pending.push(database());
    if (redisDue) pending.push(redis());
    const found = await Promise.all(pending);
    // Off their minutes, the connection and the PING still run when the runner is not ready: its database
    // or its Redis being down is one of the reasons, and the root cause is then named at once.
    const ready = found.find((c) => c.name === "runner-ready");
    const notReady = ready !== undefined && ready.status !== "pass" && ready.status !== "warn";
    if (notReady) found.push(...(await Promise.all([...(databaseDue ? [] : [database()]), ...(redisDue ? [] : [redis()])])));
    const checks = explainUntrustedReady(explainStubHealth(found));
    // One availability sample per run for the API-availability SLO: the runner answered, was ready and reads its database.
    const runner = checks.filter((c) => c.name === "runner-health" || c.name === "runner-ready" || c.name === "runner-db");
    const up = runner.every((c) => c.status === "pass" || c.status === "warn");
    return { checks, events: runner.length ? { availability: { good: up ? 1 : 0, total: 1 } } : undefined };
  },
};

const FETCH_GRACE_MS = 250;

/**
 * The check, or a failed one once `budgetMs` has passed without an answer. The late work is left to
 * finish (or fail) on its own: its result is dropped, and nothing waits for it.
 */
async function withinBudget(name: string, label: string, budgetMs: number, work: Promise<Check>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Check>((resolve) => {
    timer = setTimeout(() => resolve(check({
      name, status: "fail", observed: "timeout", threshold: `an answer within ${budgetMs} ms`,
      message: `${label}: no answer within ${budgetMs} ms`, evidence: [label],
    })), budgetMs);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function probeEndpoint(ctx: Ctx, name: string, url: string, judge: Judge, timeoutMs: number): Promise<Check> {
  const { settings, deps } = ctx;
  const shown = safeUrl(url);
  const threshold = `2xx within ${settings.latencyWarnMs} ms`;
  const res = await boundedFetch(url, {
    fetch: deps.fetch, now: deps.now, signal: ctx.signal,
    timeoutMs, maxBytes: settings.maxBodyBytes,
    headers: { accept: "application/json" },
  });
  if (!res.ok) {
    return check({ name, status: "fail", observed: res.failure, threshold, message: `${shown}: ${res.message}`, evidence: [shown] });
  }
  const evidence = [`${shown} -> HTTP ${res.status} in ${res.durationMs} ms`];
  if (res.truncated) {
    return check({ name, status: "fail", observed: res.bytes, threshold: `body <= ${settings.maxBodyBytes} bytes`,
      message: `${shown}: body larger than ${settings.maxBodyBytes} bytes`, evidence });
  }
  const parsed = parseJson(res.text);
  const contentType = res.headers.get("content-type") ?? "";
  const verdict = judge(res.status, parsed.ok ? parsed.value : undefined, { json: parsed.ok, contentType });
  if (verdict.status !== "pass") evidence.push(`body: ${excerpt(res.text) || "(empty)"}`);
  if (verdict.status === "pass" && res.durationMs > settings.latencyWarnMs) {
    return check({ name, status: "warn", observed: res.durationMs, threshold,
      message: `${shown}: slow, ${res.durationMs} ms`, evidence });
  }
  return check({ name, status: verdict.status, observed: res.status, threshold, message: `${shown}: ${verdict.message}`, evidence });
}

const judgeHealth: Judge = (status, body) => {
  const parsed = HealthBody.safeParse(body);
  if (!parsed.success) return { status: "fail", message: `HTTP ${status}, body is not Beacon's health shape` };
  const word = parsed.data.status;
  const down = (parsed.data.services ?? []).filter((s) => s.status !== "healthy").map((s) => s.name);
  const detail = down.length ? ` (not healthy: ${down.join(", ")})` : "";
  if (status === 503 || word === "unhealthy") return { status: "fail", message: `unhealthy, HTTP ${status}${detail}` };
  if (status < 200 || status > 299) return { status: "fail", message: `HTTP ${status}` };
  if (word === "degraded") return { status: "warn", message: `degraded${detail}` };
  return { status: "pass", message: "healthy" };
};

const judgeReady: Judge = (status, body) => {
  const parsed = ReadyBody.safeParse(body);
  if (!parsed.success) return { status: "fail", message: `HTTP ${status}, body is not Beacon's readiness shape` };
  if (status === 503 || !parsed.data.ready) return { status: "fail", message: `not ready, HTTP ${status}` };
  if (status < 200 || status > 299) return { status: "fail", message: `HTTP ${status}` };
  return { status: "pass", message: "ready" };
};

/**
 * `GET /api/v1/jobs?limit=1` (`handlers_simple.go:373-420`): one indexed read of Beacon's jobs table
 * through the runner, no authentication. 503 `persistence unavailable` is database-less mode; 500 a
 * database the runner holds but cannot query.
 */
const judgeRunnerDb: Judge = (status, body) => {
  const error = typeof body === "object" && body !== null && typeof (body as { error?: unknown }).error === "string" ? (body as { error: string }).error : undefined;
  if (status === 503 && error === "persistence unavailable") {
    return { status: "fail", message: "HTTP 503 persistence unavailable: the runner runs without its database (database-less mode): it submits, runs and serves nothing" };
  }
  if (status >= 500) return { status: "fail", message: `HTTP ${status}: the runner cannot read its database${error ? `: ${excerpt(error, 160)}` : ""}` };
  if (status < 200 || status > 299) return { status: "fail", message: `HTTP ${status}` };
  const jobs = typeof body === "object" && body !== null ? (body as { jobs?: unknown }).jobs : undefined;
  // Go encodes an empty list as null.
  if (jobs !== null && !Array.isArray(jobs)) return { status: "fail", message: `HTTP ${status}, body is not Beacon's job list ({"jobs": [...]})` };
  return { status: "pass", message: "the runner reads its database (the newest job)" };
};

/** Any 2xx page is up (a portal may answer HTML); a body that claims to be JSON must be JSON. */
const judgeGeneric: Judge = (status, body, raw) => {
  if (status < 200 || status > 299) return { status: "fail", message: `HTTP ${status}` };
  if (!raw.json && /json/i.test(raw.contentType)) return { status: "fail", message: `HTTP ${status}, but the body is not the JSON it claims to be` };
  const word = GenericHealthBody.safeParse(body).data?.status?.toLowerCase();
  if (word && ["unhealthy", "down", "error", "fail", "failed"].includes(word)) return { status: "fail", message: `reports "${word}"` };
  if (word === "degraded") return { status: "warn", message: "degraded" };
  return { status: "pass", message: `HTTP ${status}${word ? `, "${word}"` : ""}` };
};

/** Beacon's /health reads stub circuit breakers and stays "healthy"; say so when /ready disagrees. */
function explainStubHealth(checks: Check[]): Check[] {
  const health = checks.find((c) => c.name === "runner-health");
  const ready = checks.find((c) => c.name === "runner-ready");
  if (health?.status !== "pass" || ready?.status !== "fail") return checks;
  const note = " (/health still claims healthy: it does not check the database)";
  return checks.map((c) => (c === ready ? { ...c, message: c.message + note } : c));
}

/** A runner that cannot read its database but says ready: /ready is not to be trusted alone; say so on it. */
function explainUntrustedReady(checks: Check[]): Check[] {
  const db = checks.find((c) => c.name === "runner-db");
  const ready = checks.find((c) => c.name === "runner-ready");
  if (ready?.status !== "pass" || db?.status !== "fail" || db.observed === "timeout" || typeof db.observed !== "number") return checks;
  const note = " (yet runner-db fails: /ready pings no database when the runner started without one)";
  return checks.map((c) => (c === ready ? { ...c, message: c.message + note } : c));
}

async function databaseCheck(ctx: Ctx): Promise<Check> {
  const { sql, now } = ctx.deps;
  if (!sql) return notConfigured("database", "BEACON_DATABASE_URL");
  const started = now().getTime();
  try {
    // On the tick's new connection its set-up statement's answer is the proof: no statement of the check's own.
    const how = sql.ping ? await sql.ping() : (await sql.query("SELECT 1 AS ok"), "SELECT 1");
    const ms = now().getTime() - started;
    const slow = ms > ctx.settings.latencyWarnMs;
    return check({ name: "database", status: slow ? "warn" : "pass", observed: ms, threshold: `<= ${ctx.settings.latencyWarnMs} ms`,
      message: `${ctx.targets.databaseLabel ?? "database"}: ${how === "set-up" ? "connected and set up" : "SELECT 1"} in ${ms} ms`, evidence: slow ? [`${ctx.targets.databaseLabel}`] : [] });
  } catch (error) {
    return unreachable("database", ctx.targets.databaseLabel ?? "database", error);
  }
}

async function redisCheck(ctx: Ctx): Promise<Check> {
  const { beaconRedis, now } = ctx.deps;
  if (!beaconRedis) return notConfigured("redis", "BEACON_REDIS_REST_URL");
  const started = now().getTime();
  try {
    const pong = await beaconRedis.ping();
    const ms = now().getTime() - started;
    const slow = ms > ctx.settings.latencyWarnMs;
    return check({ name: "redis", status: pong === "PONG" && !slow ? "pass" : "warn", observed: ms, threshold: `<= ${ctx.settings.latencyWarnMs} ms`,
      message: `${ctx.targets.redisLabel ?? "redis"}: PING in ${ms} ms`, evidence: [] });
  } catch (error) {
    return unreachable("redis", ctx.targets.redisLabel ?? "redis", error);
  }
}

function notConfigured(name: string, variable: string): Check {
  return check({ name, status: "error", observed: null, threshold: null, message: `not measured: ${variable} is not set` });
}

function unreachable(name: string, label: string, error: unknown): Check {
  const reason = errorText(error);
  return check({ name, status: "fail", observed: null, threshold: "reachable", message: `${label}: ${reason}`, evidence: [label] });
}
