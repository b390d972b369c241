/**
 * Drives jobs through a running Beacon runner on every path users take, then asks the sentinel (this
 * checkout, through its own CLI) what it thinks, and prints a table of paths × verdicts.
 *
 * The runner is not ours and is not built here: someone builds Beacon's runner by hand and starts it
 * with its database, its Redis and our stub router (test/real-beacon/stub-router.ts) as its
 * HYBRID_BASE; README.md beside this file says what the driver needs. Not part of `npm test`.
 *
 *   npx tsx test/real-beacon/drive.ts --runner http://127.0.0.1:18080 \
 *     --db postgres://postgres@127.0.0.1:5432/beacon_real --beacon-redis redis://127.0.0.1:6390 \
 *     --stub http://127.0.0.1:18090 --store-redis redis://127.0.0.1:6391 --keys keys.json \
 *     [--paths portal,portal-multi,queue,queue-multi] [--jobs 20] [--fault router-timeout] \
 *     [--fault-regions eu-west] [--settle 120] [--judge-at 0,330] [--reset] [--canary] \
 *     [--canary-paths cross-region,queue] [--canary-runs 1] \
 *     [--together] [--capture DIR] [--json FILE] [--label NAME] [--no-submit] [--admin-token T]
 *
 * Every URL must be loopback: `--reset` deletes Beacon's rows and queue keys.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import type { Pool } from "@neondatabase/serverless";
import { closePool, createSqlPool } from "../../shared/db.ts";
import { generateKeyPair } from "../../shared/beacon/signing.ts";
import { startUpstashBridge, type UpstashBridge } from "../support/upstash-bridge.ts";
import { startWsProxy, type WsProxy } from "../support/ws-proxy.ts";
import { portalJob, portalSpecToQueue, queueJob, type Submission } from "./jobs.ts";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const say = (line: string) => process.stdout.write(`${line}\n`);

/** The paths users take. Each is judged in its own phase, so a verdict belongs to one path. */
export const PATHS = {
  /** The portal's bias-detection submit: cross-region, one model, two questions, US + EU. */
  portal: (keys: Keys, now: Date) => portalJob({ privateKey: keys.portal, regions: ["US", "EU"], models: ["llama3.2-1b"], questions: ["identity_basic", "math_basic"], now }),
  /** The portal's default: all three models (metadata.models). */
  "portal-multi": (keys: Keys, now: Date) => portalJob({ privateKey: keys.portal, regions: ["US", "EU"], models: ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"], questions: ["identity_basic", "math_basic"], now }),
  /** POST /api/v1/jobs, one region, one question, one explicit model, signed so Beacon's struct path verifies it; worker → hybrid router → Modal. */
  queue: (keys: Keys, now: Date) => queueJob({ privateKey: keys.queue, regions: ["US"], questions: ["math_basic"], models: ["llama3.2-1b"], modelsAs: "explicit", now }),
  /** POST /api/v1/jobs with three explicit models (each with its regions), US + EU, two questions. */
  "queue-multi": (keys: Keys, now: Date) => queueJob({ privateKey: keys.queue, regions: ["US", "EU"], questions: ["identity_basic", "math_basic"], models: ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"], modelsAs: "explicit", now }),
  /** POST /api/v1/jobs naming models in metadata.models, as the portal names them (normalised by the runner before it verifies). */
  "queue-metadata-models": (keys: Keys, now: Date) => queueJob({ privateKey: keys.queue, regions: ["US", "EU"], questions: ["identity_basic", "math_basic"], models: ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"], modelsAs: "metadata", now }),
  /** The sentinel canary's recipe as written (no benchmark.scoring): accepted through the raw fallback only. */
  "queue-canary-recipe": (keys: Keys, now: Date) => queueJob({ privateKey: keys.queue, regions: ["US"], questions: ["math_basic"], models: ["llama3.2-1b"], modelsAs: "explicit", scoring: false, now }),
  /** The portal's signed spec sent to the queue route (a signature finding, not a user path). */
  "portal-spec-to-queue": (keys: Keys, now: Date) => portalSpecToQueue({ privateKey: keys.portal, regions: ["US", "EU"], models: ["llama3.2-1b"], questions: ["identity_basic"], now }),
} satisfies Record<string, (keys: Keys, now: Date) => Submission>;
export type PathName = keyof typeof PATHS;

interface Keys {
  portal: string;
  queue: string;
  canary: string;
}

interface Options {
  runner: string;
  db: string;
  beaconRedis: string;
  stub?: string;
  storeRedis: string;
  keysFile?: string;
  paths: PathName[];
  jobs: number;
  fault?: string;
  faultRegions?: string[];
  settleSeconds: number;
  judgeAt: number[];
  reset: boolean;
  canary: boolean;
  /** The canary's paths (`probes.canary.path`), each run `canaryRuns` times: the portal's first, the queue path second. */
  canaryPaths: string[];
  canaryRuns: number;
  /** More `probes.canary` settings (JSON), e.g. shorter budgets so a missed stage is judged within the run. */
  canarySettings: Record<string, unknown>;
  capture?: string;
  json?: string;
  label: string;
  submit: boolean;
  /** Submit every path's jobs in one phase, judged together (for faults). */
  together: boolean;
  concurrency: number;
  adminToken?: string;
}

interface Check {
  name: string;
  status: string;
  message?: string;
  evidence?: unknown[];
}
interface ProbeVerdict {
  probe: string;
  status: string;
  checks: Check[];
}
interface Judgement {
  atSeconds: number;
  probes: ProbeVerdict[];
  exitCode: number | null;
  stderr: string;
}
interface PhaseReport {
  path: string;
  fault: string;
  submitted: number;
  accepted: number;
  rejected: Record<string, number>;
  firstRejection?: string;
  statuses: Record<string, number>;
  executions: Record<string, number>;
  timings: Record<string, number | null>;
  judgements: Judgement[];
  jobIds: string[];
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      runner: { type: "string" }, db: { type: "string" }, "beacon-redis": { type: "string" }, stub: { type: "string" },
      "store-redis": { type: "string", default: "redis://127.0.0.1:6391" }, keys: { type: "string" },
      paths: { type: "string", default: "portal,portal-multi,queue,queue-multi" }, jobs: { type: "string", default: "20" },
      fault: { type: "string" }, "fault-regions": { type: "string" }, settle: { type: "string", default: "180" },
      "judge-at": { type: "string", default: "0" }, reset: { type: "boolean", default: false }, canary: { type: "boolean", default: false },
      "canary-paths": { type: "string", default: "cross-region" }, "canary-settings": { type: "string", default: "{}" }, "canary-runs": { type: "string", default: "1" },
      capture: { type: "string" }, json: { type: "string" }, label: { type: "string", default: "run" },
      "no-submit": { type: "boolean", default: false }, together: { type: "boolean", default: false }, concurrency: { type: "string", default: "4" }, "admin-token": { type: "string" },
    },
  });
  const need = (name: string, v: string | undefined) => {
    if (!v) throw new Error(`--${name} is required`);
    return v;
  };
  const paths = values.paths.split(",").map((p) => p.trim()).filter(Boolean);
  for (const p of paths) if (!(p in PATHS)) throw new Error(`unknown path "${p}" (known: ${Object.keys(PATHS).join(", ")})`);
  const options: Options = {
    runner: need("runner", values.runner).replace(/\/+$/, ""), db: need("db", values.db), beaconRedis: need("beacon-redis", values["beacon-redis"]),
    stub: values.stub?.replace(/\/+$/, ""), storeRedis: values["store-redis"], keysFile: values.keys, paths: paths as PathName[],
    jobs: Number(values.jobs), fault: values.fault, faultRegions: values["fault-regions"]?.split(","), settleSeconds: Number(values.settle),
    judgeAt: values["judge-at"].split(",").map(Number), reset: values.reset, canary: values.canary, capture: values.capture,
    canaryPaths: values["canary-paths"].split(",").map((p) => p.trim()).filter(Boolean), canaryRuns: Number(values["canary-runs"]), canarySettings: JSON.parse(values["canary-settings"]) as Record<string, unknown>,
    json: values.json, label: values.label, submit: !values["no-submit"], together: values.together, concurrency: Number(values.concurrency), adminToken: values["admin-token"],
  };
  for (const url of [options.runner, options.db, options.beaconRedis, options.storeRedis, options.stub]) {
    if (url && !["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname)) throw new Error(`${url}: only loopback targets (this driver deletes data with --reset)`);
  }
  return options;
}

async function loadKeys(file: string | undefined): Promise<Keys> {
  if (!file) {
    const keys = { portal: generateKeyPair(), queue: generateKeyPair(), canary: generateKeyPair() };
    say("keys: none given, fresh ones generated; a runner with TRUST_ENFORCE=true must list these public keys:");
    for (const [kid, k] of Object.entries(keys)) say(`  {"kid":"local-${kid}","public_key":"${k.publicKey}","status":"active"}`);
    return { portal: keys.portal.privateKey, queue: keys.queue.privateKey, canary: keys.canary.privateKey };
  }
  const raw = JSON.parse(await readFile(file, "utf8")) as Record<string, { privateKey: string }>;
  return { portal: raw.portal!.privateKey, queue: raw.queue!.privateKey, canary: raw.canary!.privateKey };
}

/** A Redis client for a bridge that outlives a Redis restart (the "Redis gone" fault). */
function resilientRedis(url: string): Redis {
  const client = new Redis(url, { connectTimeout: 2000, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 1000 });
  // While it is gone, each command fails on its own; the connection errors themselves are expected.
  client.on("error", () => {});
  return client;
}

interface Bridges {
  proxy: WsProxy;
  beacon: UpstashBridge;
  store: UpstashBridge;
  close(): Promise<void>;
}

async function startBridges(opts: Options): Promise<Bridges> {
  const proxy = await startWsProxy();
  const beacon = await startUpstashBridge({ redis: () => resilientRedis(opts.beaconRedis), token: randomBytes(16).toString("hex") });
  const store = await startUpstashBridge({ redis: () => resilientRedis(opts.storeRedis), token: randomBytes(16).toString("hex") });
  return {
    proxy, beacon, store,
    async close() {
      await beacon.close();
      await store.close();
      await proxy.close();
    },
  };
}

function sentinelEnv(opts: Options, bridges: Bridges, prefix: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH, HOME: process.env.HOME,
    BEACON_API_URL: opts.runner,
    BEACON_DATABASE_URL: opts.db,
    NEON_WS_PROXY: bridges.proxy.address,
    BEACON_REDIS_REST_URL: bridges.beacon.url,
    BEACON_REDIS_REST_TOKEN: bridges.beacon.token,
    SENTINEL_REDIS_REST_URL: bridges.store.url,
    SENTINEL_REDIS_REST_TOKEN: bridges.store.token,
    SENTINEL_KEY_PREFIX: prefix,
    ...(opts.stub ? { BEACON_ROUTER_URL: opts.stub } : {}),
    ...(opts.adminToken ? { BEACON_ADMIN_TOKEN: opts.adminToken } : {}),
    ...extra,
  };
}

function runSentinel(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(projectRoot, "netlify/bin/sentinel.mjs"), ...args], { cwd: projectRoot, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `sentinel run all --json` (no CANARY_SIGNING_KEY: the canary reports itself disabled and submits nothing). */
async function judge(opts: Options, bridges: Bridges, prefix: string, atSeconds: number): Promise<Judgement> {
  const result = await runSentinel(["run", "all", "--json"], sentinelEnv(opts, bridges, prefix));
  let probes: ProbeVerdict[] = [];
  try {
    const parsed = JSON.parse(result.stdout) as ProbeVerdict | ProbeVerdict[];
    probes = (Array.isArray(parsed) ? parsed : [parsed]).map((p) => ({
      probe: p.probe, status: p.status,
      checks: p.checks.map((c) => ({ name: c.name, status: c.status, message: c.message, ...(c.status !== "pass" && c.evidence ? { evidence: c.evidence.slice(0, 3) } : {}) })),
    }));
  } catch {
    /* reported through stderr */
  }
  return { atSeconds, probes, exitCode: result.code, stderr: result.stderr.slice(0, 2000) };
}

/**
 * Beacon limits every route to 60 requests a minute per client IP (`runner-app/internal/api/middleware/
 * security.go:116-175`) and gin reads the client IP from X-Forwarded-For. Jobs come from users, each
 * with an address of its own (TEST-NET-2 documentation addresses, never connected to); the sentinel
 * keeps 127.0.0.1 and its own budget, as in production.
 */
let userCounter = 0;
function userAddress(): string {
  userCounter = (userCounter % 250) + 1;
  return `198.51.100.${userCounter}`;
}

async function submit(opts: Options, submission: Submission): Promise<{ status: number; body: string; ms: number }> {
  const started = Date.now();
  try {
    const response = await fetch(`${opts.runner}${submission.path}`, {
      method: "POST", headers: { "content-type": "application/json", "x-forwarded-for": userAddress(), ...submission.headers }, body: JSON.stringify(submission.body), signal: AbortSignal.timeout(30_000),
    });
    return { status: response.status, body: await response.text(), ms: Date.now() - started };
  } catch (error) {
    return { status: 0, body: String(error), ms: Date.now() - started };
  }
}

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

async function jobStatuses(sql: Pool, ids: string[]): Promise<Map<string, string>> {
  const { rows } = await sql.query<{ jobspec_id: string; status: string }>("SELECT jobspec_id, status FROM jobs WHERE jobspec_id = ANY($1)", [ids]);
  return new Map(rows.map((r) => [r.jobspec_id, r.status]));
}

/** Timings from Beacon's own timestamps (all `timestamp without time zone`, UTC). */
async function measure(sql: Pool, ids: string[]): Promise<{ statuses: Record<string, number>; executions: Record<string, number>; timings: Record<string, number | null> }> {
  const statuses: Record<string, number> = {};
  const executions: Record<string, number> = {};
  const timings: Record<string, number | null> = {};
  if (ids.length === 0) return { statuses, executions, timings };
  const jobs = await sql.query<{ status: string; n: string }>("SELECT status, count(*) AS n FROM jobs WHERE jobspec_id = ANY($1) GROUP BY status", [ids]);
  for (const r of jobs.rows) statuses[r.status] = Number(r.n);
  const ex = await sql.query<{ key: string; n: string }>(
    `SELECT e.region || '/' || e.status || CASE WHEN e.receipt_data IS NULL THEN '/no-receipt' ELSE '' END AS key, count(*) AS n
       FROM executions e JOIN jobs j ON j.id = e.job_id WHERE j.jobspec_id = ANY($1) GROUP BY 1 ORDER BY 1`, [ids]);
  for (const r of ex.rows) executions[r.key] = Number(r.n);
  const t = await sql.query<Record<string, string | null>>(
    `WITH j AS (SELECT id, jobspec_id, created_at, updated_at, status FROM jobs WHERE jobspec_id = ANY($1)),
          o AS (SELECT o.payload->>'id' AS jid, o.created_at, o.published_at FROM outbox o WHERE o.payload->>'id' = ANY($1)),
          e AS (SELECT e.job_id, min(e.started_at) AS first_start, max(e.completed_at) AS last_done FROM executions e WHERE e.job_id IN (SELECT id FROM j) GROUP BY e.job_id)
     SELECT
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM published_at - created_at)) FROM o WHERE published_at IS NOT NULL) AS outbox_publish_p50_s,
       (SELECT max(extract(epoch FROM published_at - created_at)) FROM o WHERE published_at IS NOT NULL) AS outbox_publish_max_s,
       (SELECT count(*) FROM o WHERE published_at IS NULL) AS outbox_unpublished,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM e.first_start - j.created_at)) FROM j JOIN e ON e.job_id = j.id) AS start_latency_p50_s,
       (SELECT max(extract(epoch FROM e.first_start - j.created_at)) FROM j JOIN e ON e.job_id = j.id) AS start_latency_max_s,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM j.updated_at - j.created_at)) FROM j WHERE j.status IN ('completed','failed')) AS job_duration_p50_s,
       (SELECT max(extract(epoch FROM j.updated_at - j.created_at)) FROM j WHERE j.status IN ('completed','failed')) AS job_duration_max_s`, [ids]);
  for (const [k, v] of Object.entries(t.rows[0] ?? {})) timings[k] = v === null ? null : Math.round(Number(v) * 1000) / 1000;
  return { statuses, executions, timings };
}

/** Deletes Beacon's rows and queue keys (loopback only, checked at start). */
async function resetBeacon(sql: Pool, redis: Redis): Promise<void> {
  const tables = await sql.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'");
  const names = tables.rows.map((r) => `"${r.table_name}"`);
  if (names.length) await sql.query(`TRUNCATE ${names.join(", ")} RESTART IDENTITY CASCADE`);
  const keys: string[] = [];
  for (const pattern of ["jobs", "jobs:*", "job:*"]) {
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
  }
  if (keys.length) await redis.del(...keys);
}

async function setFault(opts: Options, fault: string, regions?: string[]): Promise<void> {
  if (!opts.stub) throw new Error("--fault needs --stub");
  const response = await fetch(`${opts.stub}/__stub/fault`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ fault, ...(regions ? { regions } : {}) }) });
  if (!response.ok) throw new Error(`stub answered ${response.status}: ${await response.text()}`);
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  try {
    const response = await fetch(url, { headers: { "x-forwarded-for": "198.51.100.254" }, signal: AbortSignal.timeout(15_000) });
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) as unknown };
    } catch {
      return { status: response.status, body: text };
    }
  } catch (error) {
    return { status: 0, body: String(error) };
  }
}

/** Raw shapes of one job, as the runner serves and stores them (for hand-made fixtures: redact before committing). */
async function capture(opts: Options, sql: Pool, redis: Redis, dir: string, name: string, jobId: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const api = `${opts.runner}/api/v1`;
  const id = encodeURIComponent(jobId);
  const rows = async (q: string, params: unknown[]) => (await sql.query(q, params)).rows;
  const snapshot = {
    jobId,
    api: {
      job: await getJson(`${api}/jobs/${id}`),
      jobIncludeExecutions: await getJson(`${api}/jobs/${id}?include=executions`),
      jobIncludeLatest: await getJson(`${api}/jobs/${id}?include=latest`),
      executionsAll: await getJson(`${api}/jobs/${id}/executions/all`),
      executionsList: await getJson(`${api}/executions?limit=5`),
      jobsList: await getJson(`${api}/jobs?limit=5`),
    },
    db: {
      job: await rows("SELECT * FROM jobs WHERE jobspec_id = $1", [jobId]),
      executions: await rows("SELECT e.* FROM executions e JOIN jobs j ON j.id = e.job_id WHERE j.jobspec_id = $1 ORDER BY e.id", [jobId]),
      outbox: await rows("SELECT * FROM outbox WHERE payload->>'id' = $1 ORDER BY id", [jobId]),
      crossRegionExecutions: await rows("SELECT * FROM cross_region_executions WHERE jobspec_id = $1", [jobId]).catch(() => []),
      regionResults: await rows("SELECT r.* FROM region_results r JOIN cross_region_executions c ON c.id = r.cross_region_execution_id WHERE c.jobspec_id = $1", [jobId]).catch(() => []),
    },
    redis: {
      jobs: await redis.lrange("jobs", 0, 20).catch((e: unknown) => String(e)),
      dead: await redis.lrange("jobs:dead", 0, 20).catch((e: unknown) => String(e)),
      retry: await redis.zrange("jobs:retry", 0, 20, "WITHSCORES").catch((e: unknown) => String(e)),
    },
    runner: {
      health: await getJson(`${opts.runner}/health`),
      ready: await getJson(`${opts.runner}/health/ready`),
      metrics: await fetch(`${opts.runner}/metrics`, { headers: { "x-forwarded-for": "198.51.100.254" } }).then((r) => r.text()).catch((e: unknown) => String(e)),
    },
  };
  await writeFile(path.join(dir, `${name}.json`), `${JSON.stringify(snapshot, null, 2)}\n`);
}

async function runPhase(opts: Options, keys: Keys, bridges: Bridges, sql: Pool, redis: Redis, pathNames: PathName[]): Promise<PhaseReport> {
  const fault = opts.fault ?? "healthy";
  const pathName = pathNames.join("+");
  // SENTINEL_KEY_PREFIX: 1-64 of A-Z a-z 0-9 : _ . -
  const prefix = `real:${opts.label}:${pathName}`.replace(/[^A-Za-z0-9:_.-]/g, "_").slice(0, 48) + `:${Date.now().toString(36)}:`;
  say(`\n== ${pathName} (${fault}${opts.faultRegions ? ` in ${opts.faultRegions.join(",")}` : ""}) ==`);
  if (opts.reset) {
    await resetBeacon(sql, redis);
    say("reset: Beacon's tables truncated, queue keys deleted");
  }
  // A first run gives the stateful probes (traffic, outbox, regions, queue) their baseline.
  const baseline = await judge(opts, bridges, prefix, -1);
  say(`baseline: ${summarize(baseline)}`);
  if (opts.stub) await setFault(opts, fault, opts.faultRegions);
  const report: PhaseReport = { path: pathName, fault, submitted: 0, accepted: 0, rejected: {}, statuses: {}, executions: {}, timings: {}, judgements: [], jobIds: [] };
  const began = Date.now();
  const submittedPath = new Map<string, string>();
  const pathOf = new Map<Submission, string>();
  if (opts.submit) {
    // Interleaved, so every path's jobs are in flight together.
    const queue = Array.from({ length: opts.jobs }, () => pathNames.map((p) => {
      const submission = PATHS[p](keys, new Date());
      pathOf.set(submission, p);
      return submission;
    })).flat();
    const workers = Array.from({ length: Math.max(1, opts.concurrency) }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const answer = await submit(opts, s);
        report.submitted++;
        if (answer.status === 202 || answer.status === 200) {
          report.accepted++;
          report.jobIds.push(s.jobId);
          submittedPath.set(s.jobId, pathOf.get(s) ?? pathName);
        } else {
          const key = `HTTP ${answer.status}`;
          report.rejected[key] = (report.rejected[key] ?? 0) + 1;
          report.firstRejection ??= answer.body.slice(0, 400);
        }
      }
    });
    await Promise.all(workers);
    say(`submitted ${report.submitted}: ${report.accepted} accepted${Object.keys(report.rejected).length ? `, rejected ${JSON.stringify(report.rejected)}: ${report.firstRejection}` : ""} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
    // Wait until every accepted job is terminal, or the settle time.
    const deadline = began + opts.settleSeconds * 1000;
    while (report.jobIds.length && Date.now() < deadline) {
      const statuses = await jobStatuses(sql, report.jobIds);
      if (report.jobIds.every((id) => TERMINAL.has(statuses.get(id) ?? ""))) break;
      await sleep(1000);
    }
    say(`settled after ${((Date.now() - began) / 1000).toFixed(1)} s`);
  }
  for (const at of opts.judgeAt) {
    const wait = began + at * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    const j = await judge(opts, bridges, prefix, Math.round((Date.now() - began) / 1000));
    report.judgements.push(j);
    say(`judged at +${j.atSeconds} s: ${summarize(j)}`);
  }
  Object.assign(report, await measure(sql, report.jobIds));
  say(`jobs: ${JSON.stringify(report.statuses)}; executions: ${JSON.stringify(report.executions)}`);
  say(`timings: ${JSON.stringify(report.timings)}`);
  if (opts.capture) {
    for (const p of pathNames) {
      const first = report.jobIds.find((id) => submittedPath.get(id) === p);
      if (first) await capture(opts, sql, redis, opts.capture, `${opts.label}-${p}`, first);
    }
  }
  if (opts.stub && fault !== "healthy") await setFault(opts, "healthy");
  return report;
}

function summarize(j: Judgement): string {
  if (!j.probes.length) return `no result (exit ${j.exitCode}): ${j.stderr.split("\n")[0]}`;
  const bad = j.probes.flatMap((p) => p.checks.filter((c) => c.status !== "pass").map((c) => `${p.probe}/${c.name}=${c.status}`));
  return bad.length ? bad.join(" ") : "all checks pass";
}

async function runCanary(opts: Options, keys: Keys, bridges: Bridges, canaryPath: string): Promise<string> {
  const prefix = `real:${opts.label}`.replace(/[^A-Za-z0-9:_.-]/g, "_").slice(0, 40) + `:canary:${Date.now().toString(36)}:`;
  const settings = JSON.stringify({ probes: { canary: { ...opts.canarySettings, path: canaryPath } } });
  const started = Date.now();
  const result = await runSentinel(["canary", "--wait", "--timeout", "300"], sentinelEnv(opts, bridges, prefix, { CANARY_SIGNING_KEY: keys.canary, SENTINEL_SETTINGS: settings }), 330_000);
  return `[path ${canaryPath}, ${((Date.now() - started) / 1000).toFixed(1)} s]\n${result.stdout}${result.stderr ? `\n(stderr) ${result.stderr}` : ""}(exit ${result.code})`;
}

/** The table: one row per path; the checks that did not pass on the last judgement, with their message. */
function table(reports: PhaseReport[]): string {
  const lines = ["", "path | fault | jobs (accepted) | job statuses | not passing (last judgement) ", "---|---|---|---|---"];
  for (const r of reports) {
    const last = r.judgements.at(-1);
    const bad = last?.probes.flatMap((p) => p.checks.filter((c) => c.status !== "pass").map((c) => `${p.probe}/${c.name} ${c.status.toUpperCase()}: ${(c.message ?? "").slice(0, 160)}`)) ?? [];
    lines.push(`${r.path} | ${r.fault} | ${r.submitted} (${r.accepted}) | ${JSON.stringify(r.statuses)} | ${bad.length ? bad.join("<br>") : last ? "all pass" : "not judged"}`);
  }
  return lines.join("\n");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const keys = await loadKeys(opts.keysFile);
  const bridges = await startBridges(opts);
  const sql = createSqlPool({ connectionString: opts.db, wsProxy: bridges.proxy.address, max: 2 });
  const redis = resilientRedis(opts.beaconRedis);
  const reports: PhaseReport[] = [];
  let canary: string | undefined;
  try {
    if (opts.together) reports.push(await runPhase(opts, keys, bridges, sql, redis, opts.paths));
    else for (const p of opts.paths) reports.push(await runPhase(opts, keys, bridges, sql, redis, [p]));
    if (opts.canary) {
      const runs: string[] = [];
      // The canary meets the same fault as the jobs (the phase switched the stub back to healthy when it ended).
      const faulted = opts.stub && opts.fault && opts.fault !== "healthy";
      if (faulted) await setFault(opts, opts.fault!, opts.faultRegions);
      for (const canaryPath of opts.canaryPaths) {
        for (let i = 0; i < opts.canaryRuns; i++) {
          say(`\n== canary ${i + 1}/${opts.canaryRuns} on ${canaryPath} (sentinel canary --wait) ==`);
          const out = await runCanary(opts, keys, bridges, canaryPath);
          say(out);
          runs.push(out);
        }
      }
      canary = runs.join("\n\n");
      if (faulted) await setFault(opts, "healthy");
    }
  } finally {
    say(table(reports));
    if (opts.json) await writeFile(opts.json, `${JSON.stringify({ label: opts.label, at: new Date().toISOString(), reports, canary }, null, 2)}\n`);
    redis.disconnect();
    await closePool(sql);
    await bridges.close();
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then((code) => process.exit(code), (error: unknown) => {
    process.stderr.write(`drive: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(64);
  });
}
