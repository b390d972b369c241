import { parseArgs } from "node:util";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";
import { loadConfig, scheduleOf, TOPOLOGIES, type Topology } from "../../shared/config/index.ts";
import { CATALOG as PROBES } from "../../shared/probes/catalog.ts";
import { PAGE_REFRESH_SECONDS } from "../../shared/status/page.ts";
import { TYPICAL_BYTES, BEACON_PLANS, BUDGET, FREE_TIER, NETLIFY, STORE_FREE_BYTES, gigabytes, projectCost, type CostInputs } from "../../shared/cost/model.ts";
import { SentinelState, measuredTickTimes, type MeasuredTickTimes } from "../../shared/tick/state.ts";
import { readStored } from "../../shared/store/documents.ts";
import { validSchedule } from "../../shared/schedule.ts";
import { databaseEveryMinutesOf } from "../../shared/probes/health/settings.ts";
import { submissionIntervalMinutes } from "../../shared/probes/canary/settings.ts";
import { createRuntime } from "../runtime.ts";
import { createKeys } from "../../shared/store/keys.ts";
import { TICK_SCHEDULE } from "../tick.ts";
import { UsageError } from "./errors.ts";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const say = (line: string) => process.stdout.write(`${line}\n`);


/**
 * `sentinel cost [--json] [--measured] [--topology tick|per-probe] [--tick-seconds S] [--memory-gb G] [--deploys N] [--page-hours-per-day H]
 * [--page-refresh S] [--scrape-interval S]`: the month the current configuration costs, in every unit
 * each service bills, against the free allowances it draws on. `--measured` bills the tick's run time
 * as the tick recorded it over its last day (it needs the store); without it, `--tick-seconds`.
 * `--topology` projects the other shape without changing SENTINEL_TOPOLOGY (README "The topology in credits").
 */
export async function costCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: "boolean", default: false },
      "page-hours-per-day": { type: "string", default: "24" },
      "page-refresh": { type: "string", default: String(PAGE_REFRESH_SECONDS) },
      "scrape-interval": { type: "string" },
      "netlify-toml": { type: "string", default: path.join(projectRoot, "netlify.toml") },
      measured: { type: "boolean", default: false },
      "tick-seconds": { type: "string" },
      "memory-gb": { type: "string", default: String(NETLIFY.defaultMemoryGb) },
      deploys: { type: "string", default: "0" },
      topology: { type: "string" },
    },
  });
  if (values.measured && values["tick-seconds"] !== undefined) throw new UsageError("--measured takes the tick's run time from what it recorded: drop --tick-seconds, or --measured");
  const memoryGb = number(values["memory-gb"], "--memory-gb", 0.125, 10);
  const deploys = number(values.deploys, "--deploys", 0, 10_000);
  const pageHours = number(values["page-hours-per-day"], "--page-hours-per-day", 0, 24);
  const refresh = number(values["page-refresh"], "--page-refresh", 10, 86_400);
  const scrape = values["scrape-interval"] === undefined ? undefined : number(values["scrape-interval"], "--scrape-interval", 1, 86_400);
  if (values.topology !== undefined && !TOPOLOGIES.includes(values.topology as Topology)) throw new UsageError(`--topology takes ${TOPOLOGIES.join(" or ")}, not "${values.topology}"`);
  const config = loadConfig(process.env, { requireStore: false, requireBeacon: false }); // an estimate needs no Beacon
  const topology = (values.topology as Topology | undefined) ?? config.topology;
  const settings = config.settings;
  const tickSchedule = await tickScheduleFrom(values["netlify-toml"]!);
  const sizes = await storedSizes();
  const measured = values.measured ? await measuredTicks() : undefined;
  const tickSeconds = measured ? measured.meanMs / 1000 : values["tick-seconds"] === undefined ? undefined : number(values["tick-seconds"], "--tick-seconds", 0, 30);
  const input: CostInputs = {
    topology,
    tickSchedule,
    schedules: Object.fromEntries(PROBES.map((p) => [p.id, scheduleOf(settings, p)])),
    healthUrls: config.healthUrls.length,
    canaryEnabled: Boolean(config.canarySigningKey),
    canaryIntervalMinutes: submissionIntervalMinutes(settings.probes.canary, settings.beacon),
    databaseEveryMinutes: databaseEveryMinutesOf(settings.probes.health, settings.beacon),
    pageHoursPerDay: pageHours,
    pageRefreshSeconds: refresh,
    ...(scrape === undefined ? {} : { scrapeIntervalSeconds: scrape }),
    stateBytes: sizes.state,
    statusBytes: sizes.status,
    ledgerBytes: sizes.ledger,
    pastSlotsBytes: sizes.pastSlots,
    pastDaysBytes: sizes.pastDays,
    ...(tickSeconds === undefined ? {} : { tickSeconds }),
    functionMemoryGb: memoryGb,
    deploysPerMonth: deploys,
  };
  const p = projectCost(input);
  if (topology === "per-probe") p.warnings.push(...await perProbeScheduleWarnings(values["netlify-toml"]!, input.schedules));
  if (values.json) {
    say(JSON.stringify({ version: 2, input, sizesFrom: sizes.from, ...(measured ? { measured } : {}), ...p, budget: BUDGET, freeTier: FREE_TIER, netlifyRates: NETLIFY, beaconPlans: BEACON_PLANS }, null, 2));
  } else {
    const n = (x: number) => x.toLocaleString("en-US");
    const pct = (x: number, of: number) => `${((x / of) * 100).toFixed(0)}%`;
    const shape = topology === "per-probe" ? "per-probe topology: a function per probe, the tick evaluating" : "one tick";
    say(`Beacon Sentinel, projected for a 30-day month (${shape}; tick ${tickSchedule}; page open ${pageHours} h/day, refresh ${refresh} s; ${scrape ? `scrape every ${scrape} s` : "no scraper"})`);
    say("");
    const c = (x: number) => x.toFixed(1);
    const nb = p.netlify;
    const b = p.beacon;
    const tickFrom = measured
      ? `measured: ${n(measured.ticks)} ticks on ${measured.day}${measured.whole ? "" : " so far"}, mean ${Math.round(measured.meanMs)} ms, median <= ${measured.p50AtMostMs} ms, 95% <= ${measured.p95AtMostMs} ms, longest ${measured.maxMs} ms`
      : tickSeconds === undefined ? "assumed; --measured uses what the tick recorded" : "as given";
    say("Netlify (credits; the Free plan's 300 a month is a hard cap for the whole team)");
    say(`  credits             ${c(nb.creditsTotal).padStart(12)}  ${pct(nb.creditsTotal, NETLIFY.freeCredits)} of the free ${NETLIFY.freeCredits}`);
    const gbTotal = Object.values(nb.gbHours).reduce((a, b) => a + b, 0);
    say(`    compute           ${c(nb.credits.compute).padStart(12)}  ${gbTotal.toFixed(2)} GB-hours at ${nb.memoryGb} GB: tick ${nb.gbHours.tick.toFixed(2)} (${n(p.invocations.tick ?? 0)} x ${(nb.tickSeconds * 1000).toFixed(0)} ms, ${tickFrom}), views ${nb.gbHours.views.toFixed(2)}`);
    if (nb.gbHours.probes !== undefined) {
      const runs = Object.entries(p.invocations).filter(([k]) => k.startsWith("probe-")).reduce((a, [, v]) => a + v, 0);
      say(`                                    probe functions ${nb.gbHours.probes.toFixed(2)} (${n(runs)} runs), ${tickSeconds === undefined ? `waiting for the lock ${nb.gbHours.waits!.toFixed(2)} (worst case: a minute's functions start together)` : "waits for the lock inside the run time given"}`);
    }
    say(`    web requests      ${c(nb.credits.requests).padStart(12)}  ${n(nb.webRequests)} requests`);
    say(`    bandwidth         ${c(nb.credits.bandwidth).padStart(12)}  ${gigabytes(nb.bandwidthBytes)}`);
    say(`    deploys           ${c(nb.credits.deploys).padStart(12)}`);
    say(`  invocations         ${n(p.invocationsPerMonth).padStart(12)}  ${pct(p.invocationsPerMonth, FREE_TIER.invocations)} of the legacy plans' free ${n(FREE_TIER.invocations)}`);
    for (const [k, v] of Object.entries(p.invocations)) if (v) say(`    ${k.padEnd(18)}${n(v).padStart(12)}`);
    say("Upstash (the sentinel's store)");
    say(`  commands            ${n(p.storeCommandsPerMonth).padStart(12)}  ${pct(p.storeCommandsPerMonth, FREE_TIER.storeCommands)} of the free ${n(FREE_TIER.storeCommands)} (${n(p.storeCommandsIfScriptsCountInside)} if a script counts its commands)`);
    for (const [k, v] of Object.entries(p.storeCommands)) if (v) say(`    ${k.padEnd(18)}${n(v).padStart(12)}`);
    say(`  transfer            ${gigabytes(p.storeTransferBytesPerMonth).padStart(12)}  ${pct(p.storeTransferBytesPerMonth, FREE_TIER.storeTransferBytes)} of the free ${gigabytes(FREE_TIER.storeTransferBytes)} (documents: state ${n(sizes.state)} B, ledger ${n(sizes.ledger)} B, past ${n(sizes.pastSlots)} + ${n(sizes.pastDays)} B, ${sizes.from})`);
    say(`  storage             ${n(p.storeStorageBytes).padStart(12)} B  ${pct(p.storeStorageBytes, STORE_FREE_BYTES)} of the free 256 MB`);
    say("Beacon's side (what watching it costs Beacon's owner)");
    say(`  SQL statements      ${n(b.sqlStatements).padStart(12)}  ${n(b.sqlProbeStatements)} from probes + setup of ${n(b.sqlConnections)} connections`);
    say(`  Neon compute        ${c(b.neonCuHours).padStart(12)} CU-hours  kept awake ${c(b.neonAwakeHours)} h by our queries alone, ${pct(b.neonCuHours, BEACON_PLANS.neonFreeCuHours)} of Neon's free ${BEACON_PLANS.neonFreeCuHours}`);
    const every = settings.beacon.database.everyMinutes;
    say(`    cadence           ${every === undefined ? `each probe's own; health connects every ${input.databaseEveryMinutes === 1 ? "minute" : `${input.databaseEveryMinutes} min`}` : `every ${every} min, on the same minutes (beacon.database.everyMinutes)`}`);
    say(`    with the runner   ${c(b.neonAwakeHoursWithRunner * BEACON_PLANS.neonMinCu).padStart(12)} CU-hours  awake ${c(b.neonAwakeHoursWithRunner)} h if the runner runs while our requests keep it awake (its outbox publisher polls the database)`);
    say(`  queue commands      ${n(b.redisCommands).padStart(12)}  ${pct(b.redisCommands, BEACON_PLANS.queueFreeCommands)} of an Upstash free tier`);
    say(`  HTTP requests       ${n(b.httpRequests).padStart(12)}  runner kept awake ${c(b.runnerAwakeHours)} h by our requests alone`);
    for (const w of p.warnings) say(`WARNING: ${w}`);
  }
  return p.overFreeTier ? 1 : 0;
}

/**
 * The per-probe functions fire at netlify.toml's crons (its per-probe block, commented or not); a cron
 * slower than the probe's cadence leaves the probe running less often than configured, and missing.
 */
export async function perProbeScheduleWarnings(tomlPath: string, schedules: Record<string, string>): Promise<string[]> {
  const crons = await perProbeSchedulesFrom(tomlPath);
  return Object.entries(schedules).flatMap(([id, cadence]) => (crons[id] === cadence ? [] : [
    `per-probe topology: netlify.toml schedules probe-${id} ${crons[id] ? `at "${crons[id]}"` : "nowhere"}, but the probe's cadence is "${cadence}": make them equal, or the probe runs less often than configured (and its missing-results alert fires)`,
  ]));
}

/** The per-probe block of netlify.toml as it reads uncommented: each probe's function cron, by probe id. */
export async function perProbeSchedulesFrom(tomlPath: string): Promise<Record<string, string>> {
  const text = await readFile(tomlPath, "utf8").catch(() => "");
  let inside = false;
  const lines = text.split("\n").map((line) => {
    if (/^#\s*--- per-probe topology/.test(line)) inside = true;
    else if (/^#\s*--- end per-probe topology/.test(line)) inside = false;
    else if (inside) return line.replace(/^#\s?/, "");
    return line;
  });
  const toml = parseToml(lines.join("\n")) as { functions?: Record<string, { schedule?: unknown }> };
  return Object.fromEntries(Object.entries(toml.functions ?? {}).flatMap(([name, f]) => (name.startsWith("probe-") && typeof f.schedule === "string" ? [[name.slice("probe-".length), f.schedule]] : [])));
}

/** The tick's schedule as a deploy registers it: netlify.toml's `[functions.tick] schedule` wins over the file's. */
export async function tickScheduleFrom(tomlPath: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(tomlPath, "utf8");
  } catch {
    return TICK_SCHEDULE;
  }
  const toml = parseToml(text) as { functions?: Record<string, { schedule?: unknown }> };
  const override = toml.functions?.tick?.schedule;
  if (override === undefined) return TICK_SCHEDULE;
  if (typeof override !== "string" || !validSchedule(override)) throw new UsageError(`${tomlPath}: [functions.tick] schedule "${String(override)}" is not a cron expression`);
  return override;
}

/** The stored documents' real sizes when the store answers (4 STRLEN), else typical ones. */
async function storedSizes(): Promise<Record<keyof typeof TYPICAL_BYTES, number> & { from: string }> {
  try {
    const rt = createRuntime(process.env, { requireStore: true, requireBeacon: false, redisRetries: 0 });
    const keys = createKeys(rt.config.store!.keyPrefix);
    const p = rt.storeRedis!.pipeline();
    for (const key of [keys.state, keys.ledger, keys.pastSlots, keys.pastDays]) p.strlen(key);
    const [state, ledger, pastSlots, pastDays] = (await p.exec()) as number[];
    await rt.close();
    // A store younger than a day has no closed days yet, nor a day of slots: the typical sizes stand for them.
    if (state) return { ...TYPICAL_BYTES, state, ledger: ledger!, pastSlots: Math.max(pastSlots!, TYPICAL_BYTES.pastSlots), pastDays: Math.max(pastDays!, TYPICAL_BYTES.pastDays), from: "as stored now (the status page: typical)" };
  } catch {
    // no store configured or reachable: fall through to typical sizes
  }
  return { ...TYPICAL_BYTES, from: "typical sizes: no stored documents to measure" };
}

/** The tick's recorded run time over its last day (`--measured`): needs the store and at least one recorded tick. */
async function measuredTicks(): Promise<MeasuredTickTimes> {
  let rt;
  try {
    rt = createRuntime(process.env, { requireStore: true, requireBeacon: false, redisRetries: 0 });
  } catch (error) {
    throw new UsageError(`--measured reads what the tick recorded in the sentinel's store: ${(error as Error).message}`);
  }
  try {
    const keys = createKeys(rt.config.store!.keyPrefix);
    const state = readStored(SentinelState, await rt.storeRedis!.get(keys.state));
    const m = state && measuredTickTimes(state.tickTimes, rt.deps.now().getTime());
    if (!m) throw new UsageError("--measured: the store holds no recorded tick run time yet (a tick records its own after it runs)");
    return m;
  } finally {
    await rt.close();
  }
}

function number(raw: string | undefined, name: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${name} takes a number from ${min} to ${max}, not "${raw}"`);
  return n;
}
