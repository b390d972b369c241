/**
 * `npm run bench`: what the sentinel costs and how the load tool scales, as counts and ratios, never
 * as asserted wall-clock times (durations are printed for orientation only). Runs against a sandbox
 * on the same services the tests use (startServices: a local server, a throwaway one, or embedded).
 *
 * Redis commands are counted at the one place every Upstash call passes: `fetch` to the REST endpoint
 * (a pipeline or transaction is one request carrying several commands).
 */
import { generateKeyPair } from "../../shared/beacon/signing.ts";
import { PROBES } from "../../shared/probes/registry.ts";
import { runLoad } from "../../shared/load/run.ts";
import type { SqlClient } from "../../shared/sql.ts";
import { createRuntime, type Runtime } from "../../netlify/runtime.ts";
import { tick } from "../../netlify/tick.ts";
import { startSandbox } from "../sandbox/index.ts";
import { startServices } from "../support/services.ts";
import { isolatedDatabase, randomPrefix } from "../support/isolation.ts";

/** test/sandbox/testing.ts FAST (not imported: that module needs a vitest run). */
const FAST = { publisherIntervalMs: 25, workerIntervalMs: 25, executionDelayMs: 10 };
const LOAD_JOBS = 40;

const counts = { http: 0, sql: 0, redisCommands: 0, redisRequests: 0 };
const reset = () => Object.assign(counts, { http: 0, sql: 0, redisCommands: 0, redisRequests: 0 });

const services = await startServices();
const db = await isolatedDatabase(services);
const prefix = randomPrefix();
const sandbox = await startSandbox({
  sql: { connectionString: db.connectionString, wsProxy: services.postgres.wsProxy },
  redis: () => services.redis.createClient(), queueName: `${prefix}jobs`, redisKeyPrefix: prefix, ...FAST,
});

const realFetch = globalThis.fetch;
globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
  const url = input instanceof Request ? input.url : String(input);
  if (url.startsWith(services.redis.restUrl)) {
    counts.redisRequests++;
    const body = JSON.parse(typeof init?.body === "string" ? init.body : "[]") as unknown[];
    counts.redisCommands += Array.isArray(body[0]) ? body.length : 1;
  } else if (url.startsWith(sandbox.url)) counts.http++;
  return realFetch(input, init);
}) as typeof fetch;

const keys = generateKeyPair();
const rt: Runtime = createRuntime({
  BEACON_API_URL: sandbox.url, BEACON_DATABASE_URL: db.connectionString, NEON_WS_PROXY: services.postgres.wsProxy,
  BEACON_REDIS_REST_URL: services.redis.restUrl, BEACON_REDIS_REST_TOKEN: services.redis.restToken,
  SENTINEL_KEY_PREFIX: `${prefix}sentinel:`, CANARY_SIGNING_KEY: keys.privateKey,
  SENTINEL_SETTINGS: JSON.stringify({ beacon: { queue: { name: sandbox.queueName } } }),
}, { redisRetries: 0, log: { info() {}, warn() {}, error() {} } });
const sql = rt.deps.sql!;
rt.deps.sql = { query: (text, params) => (counts.sql++, sql.query(text, params)) } satisfies SqlClient;

type Row = [string, string | number, string | number, string | number, string | number, string | number];
const rows: Row[] = [];

async function probeRun(label: string, id: string) {
  const probe = PROBES.find((p) => p.id === id)!;
  reset();
  const result = (await tick(rt, { write: true, probes: [probe.id] })).results[0]!;
  rows.push([label, counts.http, counts.sql, counts.redisCommands, counts.redisRequests, `${result.durationMs} (${result.status})`]);
}

try {
  // A little history for the probes to judge.
  const warm = await runLoad(loadOptions(5, 5), loadDeps());
  for (const p of PROBES.filter((x) => x.id !== "canary")) await probeRun(`probe ${p.id}`, p.id);
  await probeRun("probe canary (submits)", "canary");
  await sandbox.drain();
  await probeRun("probe canary (follows, settles)", "canary");
  await probeRun("probe canary (idle)", "canary");
  reset();
  const evaluation = await tick(rt, { write: true, probes: [] });
  rows.push(["evaluation, no probe", counts.http, counts.sql, counts.redisCommands, counts.redisRequests, `${evaluation.slos.length} SLOs`]);

  const serial = await runLoad(loadOptions(LOAD_JOBS, 1), loadDeps());
  const parallel = await runLoad(loadOptions(LOAD_JOBS, 10), loadDeps());
  const ratio = (a: number, b: number) => (a > 0 ? (b / a).toFixed(2) : "n/a");
  const e2e = (r: typeof serial) => r.completed / r.durationSeconds;

  const header: Row = ["what", "Beacon HTTP", "SQL stmts", "Redis cmds", "Redis trips", "ms (info)"];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => String(r[i]).length)));
  const line = (r: Row) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join("  ");
  console.log(`\ncost per run (${services.describe()})\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n${rows.map(line).join("\n")}`);
  console.log(`\nload throughput, ${LOAD_JOBS} jobs (warm-up ${warm.completed} jobs):`);
  console.log(`  accepted/s     concurrency 1: ${serial.submitted.acceptedPerSecond.toFixed(1)}  concurrency 10: ${parallel.submitted.acceptedPerSecond.toFixed(1)}  ratio ${ratio(serial.submitted.acceptedPerSecond, parallel.submitted.acceptedPerSecond)}`);
  console.log(`  completed/s    concurrency 1: ${e2e(serial).toFixed(1)}  concurrency 10: ${e2e(parallel).toFixed(1)}  ratio ${ratio(e2e(serial), e2e(parallel))} (one sandbox worker: bounded by execution)`);
  console.log(`  lost ${serial.lost + parallel.lost}, duplicated ${serial.duplicated.jobs + parallel.duplicated.jobs}, order c=10: ${parallel.order.verdict}`);
} finally {
  globalThis.fetch = realFetch;
  await rt.close();
  await sandbox.close();
  await db.drop();
  await services.close();
}

function loadOptions(jobs: number, concurrency: number) {
  const s = rt.config.settings;
  return { apiUrl: sandbox.url, jobs, concurrency, signingKey: keys.privateKey, shape: s.probes.canary, beacon: s.beacon,
    slo: { thresholdSeconds: 120, target: 0.99 }, timeLimitSeconds: 120, pollIntervalMs: 50, requestTimeoutMs: 5_000 };
}

function loadDeps() {
  return { fetch: globalThis.fetch, now: () => new Date(), sql: rt.deps.sql, beaconRedis: rt.deps.beaconRedis };
}
