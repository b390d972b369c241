import { parseArgs } from "node:util";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "smol-toml";
import { loadConfig, scheduleOf } from "../../shared/config/index.ts";
import { CATALOG as PROBES } from "../../shared/probes/catalog.ts";
import { BUDGET, FREE_TIER, gigabytes, projectCost, type CostInputs } from "../../shared/cost/model.ts";
import { validSchedule } from "../../shared/schedule.ts";
import { createRuntime } from "../runtime.ts";
import { createKeys } from "../../shared/store/keys.ts";
import { TICK_SCHEDULE } from "../tick.ts";
import { UsageError } from "./errors.ts";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const say = (line: string) => process.stdout.write(`${line}\n`);

/** Sizes of the stored documents when no store can be asked (measured at defaults on the sandbox, gzipped). */
export const TYPICAL_BYTES = { state: 8_000, status: 9_000 };

/**
 * `sentinel cost [--json] [--page-hours-per-day H] [--page-refresh S] [--scrape-interval S]`: the month
 * the current configuration costs, against the free tiers it draws on.
 */
export async function costCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: "boolean", default: false },
      "page-hours-per-day": { type: "string", default: "24" },
      "page-refresh": { type: "string", default: "120" },
      "scrape-interval": { type: "string" },
      "netlify-toml": { type: "string", default: path.join(projectRoot, "netlify.toml") },
    },
  });
  const pageHours = number(values["page-hours-per-day"], "--page-hours-per-day", 0, 24);
  const refresh = number(values["page-refresh"], "--page-refresh", 10, 86_400);
  const scrape = values["scrape-interval"] === undefined ? undefined : number(values["scrape-interval"], "--scrape-interval", 1, 86_400);
  const config = loadConfig(process.env, { requireStore: false, requireBeacon: false }); // an estimate needs no Beacon
  const settings = config.settings;
  const tickSchedule = await tickScheduleFrom(values["netlify-toml"]!);
  const sizes = await storedSizes();
  const input: CostInputs = {
    tickSchedule,
    schedules: Object.fromEntries(PROBES.map((p) => [p.id, scheduleOf(settings, p)])),
    healthUrls: config.healthUrls.length,
    canaryEnabled: Boolean(config.canarySigningKey),
    canaryIntervalMinutes: settings.probes.canary.intervalMinutes,
    pageHoursPerDay: pageHours,
    pageRefreshSeconds: refresh,
    ...(scrape === undefined ? {} : { scrapeIntervalSeconds: scrape }),
    stateBytes: sizes.state,
    statusBytes: sizes.status,
  };
  const p = projectCost(input);
  if (values.json) {
    say(JSON.stringify({ version: 1, input, sizesFrom: sizes.from, ...p, budget: BUDGET, freeTier: FREE_TIER }, null, 2));
  } else {
    const n = (x: number) => x.toLocaleString("en-US");
    const pct = (x: number, of: number) => `${((x / of) * 100).toFixed(0)}%`;
    say(`Beacon Sentinel, projected for a 30-day month (tick ${tickSchedule}; page open ${pageHours} h/day, refresh ${refresh} s; ${scrape ? `scrape every ${scrape} s` : "no scraper"})`);
    say("");
    say(`Netlify invocations   ${n(p.invocationsPerMonth).padStart(12)}  ${pct(p.invocationsPerMonth, FREE_TIER.invocations)} of the free ${n(FREE_TIER.invocations)}`);
    for (const [k, v] of Object.entries(p.invocations)) if (v) say(`  ${k.padEnd(20)}${n(v).padStart(12)}`);
    say(`Store commands        ${n(p.storeCommandsPerMonth).padStart(12)}  ${pct(p.storeCommandsPerMonth, FREE_TIER.storeCommands)} of the free ${n(FREE_TIER.storeCommands)} (${n(p.storeCommandsIfScriptsCountInside)} if a script counts its commands)`);
    for (const [k, v] of Object.entries(p.storeCommands)) if (v) say(`  ${k.padEnd(20)}${n(v).padStart(12)}`);
    say(`Store transfer        ${gigabytes(p.storeTransferBytesPerMonth).padStart(12)}  ${pct(p.storeTransferBytesPerMonth, FREE_TIER.storeTransferBytes)} of the free ${gigabytes(FREE_TIER.storeTransferBytes)} (documents: state ${n(sizes.state)} B, status ${n(sizes.status)} B, ${sizes.from})`);
    say(`Beacon's side         ${n(p.beacon.httpRequests)} HTTP requests, ${n(p.beacon.sqlStatements)} SQL statements, ${n(p.beacon.redisCommands)} Redis commands on its queue`);
    for (const w of p.warnings) say(`WARNING: ${w}`);
  }
  return p.warnings.some((w) => w.includes("free tier")) ? 1 : 0;
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

/** The stored documents' real sizes when the store answers (2 STRLEN), else typical ones. */
async function storedSizes(): Promise<{ state: number; status: number; from: string }> {
  try {
    const rt = createRuntime(process.env, { requireStore: true, requireBeacon: false, redisRetries: 0 });
    const keys = createKeys(rt.config.store!.keyPrefix);
    const p = rt.storeRedis!.pipeline();
    p.strlen(keys.state);
    p.strlen(keys.status);
    const [state, status] = (await p.exec()) as number[];
    await rt.close();
    if (state && status) return { state, status, from: "as stored now" };
  } catch {
    // no store configured or reachable: fall through to typical sizes
  }
  return { ...TYPICAL_BYTES, from: "typical sizes: no stored documents to measure" };
}

function number(raw: string | undefined, name: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${name} takes a number from ${min} to ${max}, not "${raw}"`);
  return n;
}
