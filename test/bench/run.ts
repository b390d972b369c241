/**
 * `npm run bench`: what the sentinel costs and how fast it finds things, as counts and ratios, never
 * as asserted wall-clock times (durations are printed for orientation only). Runs against a sandbox
 * on the same services the tests use (startServices: a local server, a throwaway one, or embedded).
 *
 * Its core is a simulated month (test/bench/month.ts) counted where each service counts: the store
 * at an Upstash bridge of its own (test/support), the way Upstash bills it; Beacon's database at its
 * door (a ws proxy of the bench's own); Beacon's queue Redis and runner at `fetch`. Every figure of
 * `beacon-sentinel cost` is printed beside the cost model's prediction (test/bench/compare.ts).
 */
import path from "node:path";
import { randomBytes } from "node:crypto";
import { generateKeyPair } from "../../shared/beacon/signing.ts";
import { PROBES } from "../../shared/probes/catalog.ts";
import { measure } from "../../shared/runner.ts";
import { runLoad } from "../../shared/load/run.ts";
import { projectCost, BUDGET, gigabytes, MONTH_MINUTES } from "../../shared/cost/model.ts";
import { createKeys } from "../../shared/store/keys.ts";
import type { SqlClient } from "../../shared/sql.ts";
import { createRuntime, type Runtime } from "../../netlify/runtime.ts";
import { tick } from "../../netlify/tick.ts";
import { httpFunction } from "../../netlify/http/handler.ts";
import { statusRoute } from "../../netlify/http/status-routes.ts";
import { startSandbox } from "../sandbox/index.ts";
import { startServices } from "../support/services.ts";
import { startUpstashBridge } from "../support/upstash-bridge.ts";
import { startWsProxy } from "../support/ws-proxy.ts";
import { isolatedDatabase, randomPrefix } from "../support/isolation.ts";
import { detectionLatency, incidentRows } from "./detection.ts";
import { measureBundles, probeImplementation } from "./bundles.ts";
import { clockNow, setClock, simulateMonth, type BeaconMeter, type FakeClock } from "./month.ts";
import { monthFigures, monthInputs } from "./month-report.ts";
import { compareFigures, comparisonTable } from "./compare.ts";

/** test/sandbox/testing.ts FAST (not imported: that module needs a vitest run). */
const FAST = { publisherIntervalMs: 25, workerIntervalMs: 25, executionDelayMs: 10 };
const LOAD_JOBS = 40;
const MINUTE = 60_000;
/** The month's live hours (real probes against the sandbox; the rest replays them), and Beacon's distance for the timed hour. */
const LIVE_HOURS = Number(process.env.BENCH_LIVE_HOURS ?? 6);
const FAR_MS = Number(process.env.BENCH_BEACON_LATENCY_MS ?? 50);
import { PAGE_REFRESH_SECONDS } from "../../shared/status/page.ts";

const beacon: BeaconMeter & { sql: number } = { http: 0, sql: 0, redis: 0, httpAt: [] };
const resetBeacon = () => Object.assign(beacon, { http: 0, sql: 0, redis: 0, httpAt: [] });
/** Added before every request to Beacon (its runner and its queue Redis) while the bench times a distant Beacon. */
const latency = { ms: 0 };

const services = await startServices();
const db = await isolatedDatabase(services);
const prefix = randomPrefix();
const sandbox = await startSandbox({
  sql: { connectionString: db.connectionString, wsProxy: services.postgres.wsProxy },
  redis: () => services.redis.createClient(), queueName: `${prefix}jobs`, redisKeyPrefix: prefix, ...FAST,
});
// A proxy of the bench's own, so Beacon's database is counted at its door: connections and statements on the wire.
const wire = await startWsProxy();
const far = await startWsProxy({ latencyMs: FAR_MS });
const store = await startUpstashBridge({ redis: () => services.redis.createClient(), token: randomBytes(8).toString("hex") });
// The canary's claims in the month's live ticks go through a bridge of their own, so they are counted apart from the tick's commands.
const claims = await startUpstashBridge({ redis: () => services.redis.createClient(), token: randomBytes(8).toString("hex") });
const direct = services.redis.createClient();

const clock: FakeClock = { base: Math.ceil(Date.now() / (60 * MINUTE)) * 60 * MINUTE, anchor: performance.now() };
const realFetch = globalThis.fetch;
globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
  const url = input instanceof Request ? input.url : String(input);
  const toBeacon = url.startsWith(services.redis.restUrl) || url.startsWith(sandbox.url);
  if (url.startsWith(services.redis.restUrl)) {
    const body = JSON.parse(typeof init?.body === "string" ? init.body : "[]") as unknown[];
    beacon.redis += Array.isArray(body[0]) ? body.length : 1;
  } else if (url.startsWith(sandbox.url)) {
    beacon.http++;
    beacon.httpAt.push(clockNow(clock).getTime());
  }
  if (toBeacon && latency.ms > 0) await new Promise((r) => setTimeout(r, latency.ms));
  return realFetch(input, init);
}) as typeof fetch;

const keys = generateKeyPair();
const env = {
  BEACON_API_URL: sandbox.url, BEACON_DATABASE_URL: db.connectionString, NEON_WS_PROXY: wire.address,
  BEACON_REDIS_REST_URL: services.redis.restUrl, BEACON_REDIS_REST_TOKEN: services.redis.restToken,
  SENTINEL_REDIS_REST_URL: store.url, SENTINEL_REDIS_REST_TOKEN: store.token,
  SENTINEL_KEY_PREFIX: `${prefix}sentinel:`, CANARY_SIGNING_KEY: keys.privateKey,
  SENTINEL_SETTINGS: JSON.stringify({ beacon: { queue: { name: sandbox.queueName } } }),
};
const quiet = { info() {}, warn() {}, error() {} };
const rt: Runtime = createRuntime(env, { redisRetries: 0, now: () => clockNow(clock), log: quiet });
const sql = rt.deps.sql!;
rt.deps.sql = { query: (text, params) => (beacon.sql++, sql.query(text, params)) } satisfies SqlClient;

const n = (x: number) => x.toLocaleString("en-US");
const table = (header: string[], rows: (string | number)[][]) => {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(all[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...all.slice(1).map(line)].join("\n");
};
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

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

  // 2. The month, on a fake clock, every figure counted beside the model's.
  store.meter.reset();
  resetBeacon();
  wire.meter.reset();
  // A fresh prefix for the month, so its first tick finds an empty store, as a new deployment does.
  const monthPrefix = `${prefix}month:`;
  const monthEnv = { ...env, SENTINEL_KEY_PREFIX: monthPrefix };
  const monthRt = createRuntime(monthEnv, { redisRetries: 0, now: () => clockNow(clock), log: quiet });
  // From a UTC midnight, so the live hours are one day of the tick's own record of its run time.
  const start = Math.ceil((clock.base + MINUTE) / (1440 * MINUTE)) * 1440 * MINUTE;
  const t0 = performance.now();
  const counts = await simulateMonth({
    liveEnv: { ...monthEnv, SENTINEL_REDIS_REST_URL: claims.url, SENTINEL_REDIS_REST_TOKEN: claims.token },
    rt: monthRt, storeBridge: store, claimsBridge: claims, wire, beacon, clock, sandbox, redis: direct, keys: createKeys(monthPrefix),
    start, liveHours: LIVE_HOURS, pageRefreshSeconds: PAGE_REFRESH_SECONDS,
  });
  const monthSeconds = (performance.now() - t0) / 1000;
  const inputs = monthInputs(monthRt.config, counts, PAGE_REFRESH_SECONDS);
  const predicted = projectCost(inputs);
  const compared = compareFigures(monthFigures(counts, predicted));
  console.log(`\nthe month, simulated in ${monthSeconds.toFixed(0)} s on a fake clock (test/bench/month.ts), each figure of \`beacon-sentinel cost\` counted beside the model's:`);
  console.log(`  day 1 minute by minute (1,440 ticks, a status page view every ${PAGE_REFRESH_SECONDS} s), days 2-29 a tick an hour (the state grows as it would; not counted), day 30 minute by minute`);
  console.log(`  counted whole: day 1 and day 30's last hour, at the Upstash bridge (commands, bytes), at the views (invocations, web requests, bytes served, run time); days 2-30 are day 30's last hour x 696; storage: every key at the month's end`);
  console.log(`  counted over the first ${LIVE_HOURS} h (real probes against the sandbox, Beacon on loopback) and scaled x ${MONTH_MINUTES / counts.liveMinutes}: Beacon's SQL statements and connections (at the database's door), queue commands and HTTP requests (at fetch), the minutes they touched (awake hours), the canary's store claims, the tick's run time`);
  console.log(`  every other tick replays each probe's last live measurement with a new time: Beacon is not called`);
  console.log(`  model: projectCost for this configuration, the documents sized as stored at the month's end (state ${n(inputs.stateBytes)} B, ledger ${n(inputs.ledgerBytes ?? 0)} B, past ${n(inputs.pastSlotsBytes ?? 0)} + ${n(inputs.pastDaysBytes ?? 0)} B), the tick's run time as it recorded it over the live hours (${counts.recorded ? `${Math.round(counts.recorded.meanMs)} ms mean` : "none recorded: the model's default"}), as \`beacon-sentinel cost --measured\` takes them`);
  console.log(comparisonTable(compared));
  const off = compared.filter((r) => r.flagged);
  console.log(off.length === 0 ? "every figure within 10% of the model" : `${off.length} figure(s) off by more than 10%: ${off.map((r) => `${r.group} ${r.name}`).join("; ")}`);
  const { day1, lastHour } = counts.store;
  const perTick = (x: typeof day1) => `${n(Math.round(x.tickBytes / x.ticks))} B and ${(x.tickCommands / x.ticks).toFixed(2)} commands a tick, ${n(Math.round(x.viewBytes / x.views))} B a view`;
  console.log(`(store: day 1 ${perTick(day1)}; day 30's last hour ${perTick(lastHour)}. Stored at the month's end, bytes: ${Object.entries(counts.storage.keys).map(([k, v]) => `${k} ${n(v)}`).join(", ")}. A status page view at the month's end: ${n(Math.round(lastHour.servedBytes / lastHour.views))} B rendered, ${n(Math.round(lastHour.servedGzipBytes / lastHour.views))} B gzipped, ${median(counts.viewMs).toFixed(1)} ms median)`);
  const loopbackMs = { mean: mean(counts.liveTickMs), median: median(counts.liveTickMs) };
  if (counts.recorded) {
    console.log(`(the tick's own record, which \`--measured\` bills, times it from its start to its write: a ${Math.round(counts.recorded.meanMs)} ms mean over the live hours, against ${Math.round(loopbackMs.mean)} ms for the whole tick; the status document's build, the encoding and the write itself are not in it)`);
  }

  // 2b. The tick's run time with Beacon 50 ms away (every HTTP request, SQL round trip and queue command), an hour of live ticks after the month.
  latency.ms = FAR_MS;
  const farMs: number[] = [];
  for (let i = 0; i < 60; i++) {
    const farRt = createRuntime({ ...monthEnv, NEON_WS_PROXY: far.address }, { redisRetries: 0, now: () => clockNow(clock), log: quiet });
    setClock(clock, start + (MONTH_MINUTES + i) * MINUTE);
    await tick(farRt, { write: true });
    farMs.push(performance.now() - clock.anchor);
    await farRt.close();
    await sandbox.drain().catch(() => {});
  }
  latency.ms = 0;
  const creditsAt = (ms: number) => projectCost({ ...inputs, tickSeconds: ms / 1000 }).netlify;
  console.log("\nthe tick's run time (wall, the whole tick; printed, never asserted) and the month's Netlify credits at it (status views at the model's VIEW_SECONDS)");
  console.log(table(["Beacon", "ticks", "median ms", "mean ms", "credits at median", "credits at mean", "of which tick compute (mean)"], [
    ["on loopback (the month's live hours)", counts.liveTickMs.length, loopbackMs.median.toFixed(0), loopbackMs.mean.toFixed(0), creditsAt(loopbackMs.median).creditsTotal.toFixed(1), creditsAt(loopbackMs.mean).creditsTotal.toFixed(1), ((creditsAt(loopbackMs.mean).gbHours.tick) * 10).toFixed(1)],
    [`${FAR_MS} ms away (an hour after the month)`, farMs.length, median(farMs).toFixed(0), mean(farMs).toFixed(0), creditsAt(median(farMs)).creditsTotal.toFixed(1), creditsAt(mean(farMs)).creditsTotal.toFixed(1), ((creditsAt(mean(farMs)).gbHours.tick) * 10).toFixed(1)],
  ]));
  console.log(`(issue 22's target: <= 100 credits a month at defaults with Beacon 50 ms away; the Free plan's 300 is a cap for the whole team)`);

  // 3. One status view, at the month's end.
  setClock(clock, start + (MONTH_MINUTES + 60) * MINUTE);
  store.meter.reset();
  const view = await httpFunction(statusRoute, () => monthRt)(new Request("http://sentinel.test/api/status"));
  await view.text();
  console.log(`\none status view (/api/status): ${store.meter.commands} command(s), ${n(store.meter.bytesOut)} bytes read from the store`);

  // 4. The first tick after three days without the store (what used to be a 5,000-result catch-up).
  setClock(clock, clock.base + 3 * 24 * 60 * MINUTE);
  store.meter.reset();
  const after = await tick(monthRt, { write: true });
  await monthRt.close();
  const gap = after.status?.monitoring?.gaps.at(-1);
  console.log(`first tick after 3 days away: ${store.meter.commands} store commands; it recorded ${n(gap?.missedRuns ?? 0)} missed probe runs`);

  // 5. The month against the budgets and issue 22's numbers to beat (counted figures; credits at the distant Beacon's mean).
  const got = (name: string) => compared.find((r) => r.name === name)!.counted;
  const farCredits = creditsAt(mean(farMs)).creditsTotal;
  console.log("\nthe month counted, against budgets and issue 22's numbers to beat");
  console.log(table(["measure", "counted a month", "bound"], [
    ["Netlify invocations", n(got("invocations, tick") + got("invocations, status page")), `${n(BUDGET.invocations)} (budget)`],
    ["store commands", n(Math.round(got("commands"))), `${n(BUDGET.storeCommands)} (budget)`],
    ["store transfer", gigabytes(got("transfer, bytes")), "1 GB (issue 22, at 6 regions x 8 models)"],
    [`Netlify credits, Beacon ${FAR_MS} ms away`, farCredits.toFixed(1), "100 (issue 22)"],
    ["Beacon SQL statements", n(Math.round(got("SQL statements"))), "100,000 (issue 22)"],
    ["Beacon SQL connections", n(Math.round(got("SQL connections"))), "45,000 (issue 22)"],
    ["Beacon queue commands", n(Math.round(got("queue commands"))), "50,000 (issue 22)"],
    ["Beacon's Neon kept awake", `${got("Neon awake hours").toFixed(0)} h, ${got("Neon CU-hours").toFixed(0)} CU-hours`, "100 CU-hours (Neon free)"],
  ]));
  console.log("(the sandbox has one canary region: the store's documents here are smaller than at 6 regions x 8 models)");

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
  const medianOf7 = async (f: () => Promise<unknown>) => {
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
    const probeMs = await medianOf7(run(id));
    const bareMs = await medianOf7(op);
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
  await claims.close();
  // The sentinel's keys of this run (the sandbox's are its own to clean).
  for (const key of await direct.keys(`${prefix}sentinel:*`).then(async (a) => [...a, ...(await direct.keys(`${prefix}month:*`))])) await direct.del(key);
  direct.disconnect();
  await wire.close();
  await far.close();
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
