/**
 * `npm run bench`: what the sentinel costs and how fast it finds things, as counts and ratios, never
 * as asserted wall-clock times (durations are printed for orientation only). Runs against a sandbox
 * on the same services the tests use (startServices: a local server, a throwaway one, or embedded).
 *
 * Store commands and bytes are counted at an Upstash bridge of their own (test/support), the way
 * Upstash bills them; Beacon's HTTP requests, SQL statements and queue commands at the clients.
 */
import path from "node:path";
import { randomBytes } from "node:crypto";
import { generateKeyPair } from "../../shared/beacon/signing.ts";
import { PROBES } from "../../shared/probes/catalog.ts";
import { CATALOG } from "../../shared/probes/catalog.ts";
import { measure } from "../../shared/runner.ts";
import { runLoad } from "../../shared/load/run.ts";
import { projectCost, BUDGET, gigabytes, type CostInputs } from "../../shared/cost/model.ts";
import type { SqlClient } from "../../shared/sql.ts";
import { createRuntime, type Runtime } from "../../netlify/runtime.ts";
import { tick, TICK_SCHEDULE } from "../../netlify/tick.ts";
import { httpFunction } from "../../netlify/http/handler.ts";
import { statusRoute } from "../../netlify/http/status-routes.ts";
import { startSandbox } from "../sandbox/index.ts";
import { startServices } from "../support/services.ts";
import { startUpstashBridge } from "../support/upstash-bridge.ts";
import { startWsProxy } from "../support/ws-proxy.ts";
import { isolatedDatabase, randomPrefix } from "../support/isolation.ts";
import { detectionLatency, incidentRows } from "./detection.ts";
import { measureBundles, probeImplementation } from "./bundles.ts";

/** test/sandbox/testing.ts FAST (not imported: that module needs a vitest run). */
const FAST = { publisherIntervalMs: 25, workerIntervalMs: 25, executionDelayMs: 10 };
const LOAD_JOBS = 40;
const MINUTE = 60_000;

const beacon = { http: 0, sql: 0, redis: 0 };
const resetBeacon = () => Object.assign(beacon, { http: 0, sql: 0, redis: 0 });

const services = await startServices();
const db = await isolatedDatabase(services);
const prefix = randomPrefix();
const sandbox = await startSandbox({
  sql: { connectionString: db.connectionString, wsProxy: services.postgres.wsProxy },
  redis: () => services.redis.createClient(), queueName: `${prefix}jobs`, redisKeyPrefix: prefix, ...FAST,
});
// A proxy of the bench's own, so Beacon's database is counted at its door: connections and statements on the wire.
const wire = await startWsProxy();
const store = await startUpstashBridge({ redis: () => services.redis.createClient(), token: randomBytes(8).toString("hex") });

const realFetch = globalThis.fetch;
globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
  const url = input instanceof Request ? input.url : String(input);
  if (url.startsWith(services.redis.restUrl)) {
    const body = JSON.parse(typeof init?.body === "string" ? init.body : "[]") as unknown[];
    beacon.redis += Array.isArray(body[0]) ? body.length : 1;
  } else if (url.startsWith(sandbox.url)) beacon.http++;
  return realFetch(input, init);
}) as typeof fetch;

const clock = { t: Math.ceil(Date.now() / (60 * MINUTE)) * 60 * MINUTE };
const keys = generateKeyPair();
const rt: Runtime = createRuntime({
  BEACON_API_URL: sandbox.url, BEACON_DATABASE_URL: db.connectionString, NEON_WS_PROXY: wire.address,
  BEACON_REDIS_REST_URL: services.redis.restUrl, BEACON_REDIS_REST_TOKEN: services.redis.restToken,
  SENTINEL_REDIS_REST_URL: store.url, SENTINEL_REDIS_REST_TOKEN: store.token,
  SENTINEL_KEY_PREFIX: `${prefix}sentinel:`, CANARY_SIGNING_KEY: keys.privateKey,
  SENTINEL_SETTINGS: JSON.stringify({ beacon: { queue: { name: sandbox.queueName } } }),
}, { redisRetries: 0, now: () => new Date(clock.t), log: { info() {}, warn() {}, error() {} } });
const sql = rt.deps.sql!;
rt.deps.sql = { query: (text, params) => (beacon.sql++, sql.query(text, params)) } satisfies SqlClient;

const n = (x: number) => x.toLocaleString("en-US");
const table = (header: string[], rows: (string | number)[][]) => {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(all[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...all.slice(1).map(line)].join("\n");
};

try {
  console.log(`bench on ${services.describe()}\n`);
  const warm = await runLoad(loadOptions(5, 5), loadDeps());

  // 1. Each probe recorded through a tick: Beacon's side and the store's.
  const perProbe: (string | number)[][] = [];
  for (const p of PROBES) {
    resetBeacon();
    store.meter.reset();
    const t0 = performance.now();
    const report = await tick(rt, { write: true, probes: [p.id] });
    perProbe.push([p.id, beacon.http, beacon.sql, beacon.redis, store.meter.commands, store.meter.requests, `${Math.round(performance.now() - t0)} (${report.results[0]?.status})`]);
    await sandbox.drain().catch(() => {});
  }
  console.log("one probe recorded by a tick (store: the tick's own commands)");
  console.log(table(["probe", "Beacon HTTP", "SQL", "Beacon Redis", "store cmds", "store trips", "tick ms (info)"], perProbe));
  console.log("(the canary's sixth command is the claim on its in-flight slot, taken when it submits)");

  // 2. An hour of scheduled ticks on a virtual clock.
  store.meter.reset();
  resetBeacon();
  wire.meter.reset();
  const tickMs: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t0 = performance.now();
    await tick(rt, { write: true });
    tickMs.push(performance.now() - t0);
    await sandbox.drain().catch(() => {});
    clock.t += MINUTE;
  }
  const hour = { commands: store.meter.commands, scripts: store.meter.scripts, bytes: store.meter.bytesIn + store.meter.bytesOut, ...beacon, wireStatements: wire.meter.statements, wireConnections: wire.meter.connections };
  const defaults: CostInputs = {
    tickSchedule: TICK_SCHEDULE, schedules: Object.fromEntries(CATALOG.map((p) => [p.id, p.schedule])), healthUrls: 0, canaryEnabled: true,
    canaryIntervalMinutes: rt.config.settings.probes.canary.intervalMinutes, pageHoursPerDay: 24, pageRefreshSeconds: 120,
    stateBytes: Number(await rt.storeRedis!.strlen(`${prefix}sentinel:tick:state`)), statusBytes: Number(await rt.storeRedis!.strlen(`${prefix}sentinel:status`)),
  };
  const projectedHour = projectCost({ ...defaults, pageHoursPerDay: 0 }, 60);
  console.log(`\none hour of ticks (virtual clock): store ${hour.commands} commands (projected ${projectedHour.storeCommandsPerMonth}, which counts each canary's claim and release; ${hour.scripts} scripts ran: the canary's releases and each tick's lock script and fenced write), ${n(hour.bytes)} bytes; Beacon ${hour.http} HTTP, ${hour.sql} SQL, ${hour.redis} queue commands`);

  // The hour counted beside the model's projection of the same hour (the month is 720 of them).
  const pct = (counted: number, model: number) => (model === 0 ? (counted === 0 ? "0%" : "n/a") : `${(((counted - model) / model) * 100).toFixed(1)}%`);
  const hourRow = (what: string, counted: number, model: number) => [what, n(counted), n(model), pct(counted, model), n(counted * 720)];
  const meanTick = tickMs.reduce((a, b) => a + b, 0) / tickMs.length;
  const medianTick = [...tickMs].sort((a, b) => a - b)[Math.floor(tickMs.length / 2)]!;
  console.log("\nthe hour counted beside the model (cost model: shared/cost/model.ts)");
  console.log(table(["figure", "counted", "model", "diff", "x 720 (a month)"], [
    hourRow("store commands", hour.commands, projectedHour.storeCommandsPerMonth),
    hourRow("store bytes (transfer)", hour.bytes, projectedHour.storeTransferBytesPerMonth),
    hourRow("Beacon HTTP requests", hour.http, projectedHour.beacon.httpRequests),
    hourRow("Beacon SQL, at the wire", hour.wireStatements, projectedHour.beacon.sqlStatements),
    hourRow("Beacon SQL, probes' own", hour.sql, projectedHour.beacon.sqlProbeStatements),
    hourRow("Beacon connections, at the wire", hour.wireConnections, projectedHour.beacon.sqlConnections),
    hourRow("Beacon queue commands", hour.redis, projectedHour.beacon.redisCommands),
  ]));
  console.log("(connections: these ticks run milliseconds apart, so the pool's one connection stays open between them; a minute apart it closes after 10 s idle and each tick opens one, as the model counts)");
  const credits = projectCost({ ...defaults, tickSeconds: meanTick / 1000 });
  console.log(`tick wall time over the hour: mean ${meanTick.toFixed(0)} ms, median ${medianTick.toFixed(0)} ms (Beacon on loopback; for orientation) -> Netlify ${credits.netlify.creditsTotal.toFixed(1)} credits a month at that mean (compute ${credits.netlify.credits.compute.toFixed(1)}), of the Free plan's 300`);

  // 3. One status view.
  store.meter.reset();
  const view = await httpFunction(statusRoute, () => rt)(new Request("http://sentinel.test/api/status"));
  await view.text();
  console.log(`one status view: ${store.meter.commands} command(s), ${n(store.meter.bytesOut)} bytes read from the store`);

  // 4. The first tick after three days without the store (what used to be a 5,000-result catch-up).
  clock.t += 3 * 24 * 60 * MINUTE;
  store.meter.reset();
  const after = await tick(rt, { write: true });
  const gap = after.status?.monitoring?.gaps.at(-1);
  console.log(`first tick after 3 days away: ${store.meter.commands} store commands; it recorded ${n(gap?.missedRuns ?? 0)} missed probe runs`);

  // 5. The month at defaults.
  const month = projectCost(defaults);
  const measuredMonth = hour.bytes * 720;
  console.log("\nthe month at defaults (canary on, a status page open all month, refresh 120 s)");
  console.log(table(["measure", "a month", "budget"], [
    ["Netlify invocations", n(month.invocationsPerMonth), n(BUDGET.invocations)],
    ["store commands", `${n(month.storeCommandsPerMonth)} (${n(month.storeCommandsIfScriptsCountInside)} if scripts count inside)`, n(BUDGET.storeCommands)],
    ["store transfer", `${gigabytes(month.storeTransferBytesPerMonth)} projected, ${gigabytes(measuredMonth)} measured`, gigabytes(BUDGET.storeTransferBytes)],
    ["Netlify credits (tick at 0.5 s assumed)", month.netlify.creditsTotal.toFixed(1), "300 (Free plan, whole team)"],
    ["Beacon HTTP / SQL / connections / queue", `${n(month.beacon.httpRequests)} / ${n(month.beacon.sqlStatements)} / ${n(month.beacon.sqlConnections)} / ${n(month.beacon.redisCommands)}`, "-"],
    ["Beacon's Neon kept awake", `${month.beacon.neonAwakeHours.toFixed(0)} h, ${month.beacon.neonCuHours.toFixed(0)} CU-hours`, "100 CU-hours (Neon free)"],
  ]));

  // 6. Detection latency on a virtual clock.
  console.log("\ndetection at defaults, from observable to message (virtual clock, worst over start times)");
  console.log(table(["incident", "check", "best min", "worst min", "goal min"], incidentRows().map((r) => {
    const d = detectionLatency(r);
    return [r.incident, `${r.probe}/${r.check}`, (d.bestS / 60).toFixed(1), (d.worstS / 60).toFixed(1), r.goalMinutes];
  })));

  // 7. What each function ships.
  const bundles = await measureBundles(path.resolve(import.meta.dirname, "../.."));
  console.log("\nwhat each function ships (Netlify's bundler)");
  console.log(table(["function", "own files", "own KB", "probe code files", "whole MB"], bundles.map((b) => [b.name, b.ownFiles.length, (b.ownBytes / 1024).toFixed(0), b.ownFiles.filter(probeImplementation).length, (b.totalBytes / 1024 / 1024).toFixed(2)])));

  // 8. Each probe's time against its bare operations, as a ratio (medians of 7).
  const median = async (f: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      await f();
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[3]!;
  };
  const run = (id: string) => () => measure(PROBES.find((p) => p.id === id)!, { deps: rt.deps, settings: rt.config.settings, targets: rt.targets, redact: rt.redact });
  const redis = rt.deps.beaconRedis!;
  const q = sandbox.queueName;
  const bare: [string, () => Promise<unknown>][] = [
    ["health", () => Promise.all([realFetch(`${sandbox.url}/health`).then((r) => r.text()), realFetch(`${sandbox.url}/health/ready`).then((r) => r.text()), sql.query("SELECT 1"), redis.ping()])],
    ["traffic", () => realFetch(`${sandbox.url}/metrics`).then((r) => r.text())],
    ["queue", () => redis.pipeline().lrange(q, 0, 49).zrange(`${q}:retry`, 0, 49, { withScores: true }).lrange(`${q}:dead`, 0, 49).exec()],
  ];
  const ratios: (string | number)[][] = [];
  for (const [id, op] of bare) {
    const probeMs = await median(run(id));
    const bareMs = await median(op);
    ratios.push([id, probeMs.toFixed(1), bareMs.toFixed(1), (probeMs / bareMs).toFixed(2)]);
  }
  console.log("\neach probe against its bare operations (median ms, for orientation; the ratio is the figure)");
  console.log(table(["probe", "probe ms", "bare ms", "ratio"], ratios));

  // 9. Load throughput.
  const serial = await runLoad(loadOptions(LOAD_JOBS, 1), loadDeps());
  const parallel = await runLoad(loadOptions(LOAD_JOBS, 10), loadDeps());
  const ratio = (a: number, b: number) => (a > 0 ? (b / a).toFixed(2) : "n/a");
  const e2e = (r: typeof serial) => r.completed / r.durationSeconds;
  console.log(`\nload throughput, ${LOAD_JOBS} jobs (warm-up ${warm.completed} jobs):`);
  console.log(`  accepted/s     concurrency 10 vs 1: ratio ${ratio(serial.submitted.acceptedPerSecond, parallel.submitted.acceptedPerSecond)}`);
  console.log(`  completed/s    concurrency 10 vs 1: ratio ${ratio(e2e(serial), e2e(parallel))} (one sandbox worker: bounded by execution)`);
  console.log(`  lost ${serial.lost + parallel.lost}, duplicated ${serial.duplicated.jobs + parallel.duplicated.jobs}, order c=10: ${parallel.order.verdict}`);
} finally {
  globalThis.fetch = realFetch;
  await rt.close();
  await store.close();
  await wire.close();
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
