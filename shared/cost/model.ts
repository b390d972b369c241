import { runsIn, weekMinutes } from "../schedule.ts";
import { CATALOG } from "../probes/catalog.ts";
import type { BeaconWork } from "../probes/types.ts";
import { BEGIN_COMMANDS, PER_PROBE_SECONDS, perProbeMonth, type PerProbeMonth } from "./topology.ts";

/**
 * What the sentinel costs a month, projected from its configuration. Every number here is a count
 * of work the code does (shared/tick/store.ts says what a tick spends), so a test can hold the
 * projection against what the Upstash bridge counts for the same simulated hour.
 */

/** Free allowances designed for (../shared/platform-notes.md): Netlify invocations, Upstash commands and transfer. */
export const FREE_TIER = { invocations: 125_000, storeCommands: 500_000, storeTransferBytes: 10 * 1024 ** 3 } as const;
/** This project's own budget, tighter than the free tier so that manual runs and a second viewer fit. */
export const BUDGET = { invocations: 90_000, storeCommands: 350_000, storeTransferBytes: 3 * 1024 ** 3 } as const;

/**
 * Store commands of one tick that sends nothing: lock (a script that takes it and counts the write
 * sequence) + state and ledger (one MGET) + silences, then one script (EVAL) that writes state, status and ledger
 * and releases the lock only while the tick holds it.
 */
export const TICK_COMMANDS = 4;
/** A tick that sends keeps the lock through the send and writes once more (the same script): one more command. */
export const SEND_EXTRA_COMMANDS = 1;
/** Scripts among a tick's commands (taking the lock, the fenced write), and the commands they run inside (SET, INCR; GET of the lock, MSET, DEL). */
export const TICK_SCRIPTS = { perTick: 2, commandsInside: 5 } as const;
/**
 * The ledger's durable copy in Netlify Blobs (netlify/ledger-copy.ts): one `set` per tick that sent
 * (after its outcome is stored), one `get` per tick that found neither state nor ledger in the store
 * (a first run, or a flush). A month without incidents costs none; each incident costs one `set` for
 * its FIRING tick and one for its RESOLVED tick (more when a send is retried).
 */
export const LEDGER_COPY = { setsPerSendingTick: 1, getsPerMemoryLoss: 1 } as const;
/** One status view, badge or scrape: one MGET of the state, the ledger and the two past documents. */
export const VIEW_COMMANDS = 1;
/**
 * The tick's past (shared/tick/past.ts): the closed timeline slots are read (one MGET) and rewritten (in
 * the tick's one script) by the tick that finds a 15-minute slot closed; the closed days by the first
 * tick of each UTC day, in the same MGET and script (midnight closes a slot too).
 */
export const PAST_SLOT_MINUTES = 15;
export const PAST_READ_COMMANDS = 1;
/** A canary submission claims its slot (SET NX) and releases it when settled (EVAL of GET + DEL). */
export const CANARY_COMMANDS = { asBilledIfScriptIsOne: 2, ifScriptCountsItsCommands: 3 } as const;

/** Work on Beacon's side per probe run, as each probe's definition declares it (`beaconPerRun`). */
export const BEACON_PER_RUN: Record<string, BeaconWork> = Object.fromEntries(CATALOG.flatMap((p) => (p.beaconPerRun ? [[p.id, p.beaconPerRun]] : [])));
/** Minutes a canary is followed on average before it settles (a healthy pipeline: a couple of minutes). */
const CANARY_FOLLOW_RUNS = 3;

/**
 * Netlify's credit-based plans (since 2025-09-04; ../shared/platform-notes.md): compute at 10 credits per
 * GB-hour of function run time at the function's memory (1 GB unless configured), web requests at 3
 * credits per 10,000, bandwidth at 10 credits per GB, 15 credits per production deploy. The Free plan's
 * 300 credits a month are a hard cap for the whole team: when they are used up, every site of the team
 * is paused until the month ends.
 */
export const NETLIFY = { creditsPerGbHour: 10, creditsPer10kRequests: 3, creditsPerGb: 10, creditsPerDeploy: 15, freeCredits: 300, defaultMemoryGb: 1 } as const;
/** A tick's run time when none was measured (`sentinel cost --measured` uses the tick's own record instead). */
export const TYPICAL_TICK_SECONDS = 0.5;
/**
 * Run time of one status view, badge or scrape: one MGET of the state and the past, the document built
 * and rendered. The bench's month measured 42 ms a view (mean) with the store on loopback; 45 ms leaves
 * an Upstash database in the functions' region its round trip.
 */
export const VIEW_SECONDS = 0.045;
/**
 * What one status page view serves when none was measured: the rendered page (not the stored status
 * document, which is its gzipped JSON), gzipped as Netlify's CDN sends it. The bench's month measured
 * 29.6 KB at its end at the sandbox's defaults, with its 90-day bars (21.5 KB before them).
 */
export const TYPICAL_PAGE_BYTES = 29_600;
/**
 * Beacon's side: Neon suspends a compute after 5 idle minutes (the free plan cannot change it) and gives
 * 100 CU-hours a month; a compute awake at its smallest size is 0.25 CU. The runner (Fly machines that
 * stop when idle) is taken to stop after the same 5 quiet minutes. Beacon's queue Redis on Upstash's
 * free tier has 500K commands a month.
 */
export const BEACON_PLANS = { neonFreeCuHours: 100, neonSuspendMinutes: 5, neonMinCu: 0.25, runnerIdleMinutes: 5, queueFreeCommands: 500_000 } as const;
/** Statements each new database connection runs before the first query (shared/sql.ts: one `set_config` for read-only, statement timeout, UTC). */
export const SQL_SETS_PER_CONNECTION = 1;
/** Database connections a tick opens when it runs SQL: the pool holds one (netlify/runtime.ts), closed when idle between ticks. */
export const SQL_CONNECTIONS_PER_TICK = 1;
/**
 * Bytes on the wire around the documents, per request kind, counted at the Upstash bridge (test/cost.test.ts
 * holds them): a tick's two requests (lock script and MGET; the fenced write's script with its keys),
 * a past read, a view's MGET.
 */
export const ENVELOPE_BYTES = { tick: 1_100, pastRead: 150, view: 150 } as const;

/**
 * Sizes when no store can be asked, as stored (gzipped, base64): measured by test/state-diet.test.ts
 * after a simulated month at defaults (state, ledger, past slots) and test/history.test.ts after 90
 * simulated days (past days); `status` is the status page as served gzipped with 90 days of bars.
 */
export const TYPICAL_BYTES = { state: 7_500, status: 16_000, ledger: 600, pastSlots: 7_100, pastDays: 8_000 } as const;

/** Upstash's free tier stores 256 MB. */
export const STORE_FREE_BYTES = 256 * 1024 ** 2;

/** SENTINEL_TOPOLOGY: the one tick (default), or a function per probe with the tick as the fan-in (shared/cost/topology.ts). */
export type CostTopology = "tick" | "per-probe";

export interface CostInputs {
  /** Default "tick". */
  topology?: CostTopology;
  tickSchedule: string;
  /** Effective cadence of each probe. */
  schedules: Record<string, string>;
  healthUrls: number;
  canaryEnabled: boolean;
  canaryIntervalMinutes: number;
  /**
   * Minutes between two runs of health's `database` check (its connection): `databaseEveryMinutes`, or
   * `beacon.database.everyMinutes` (shared/probes/health/settings.ts). Default 1: every health run.
   */
  databaseEveryMinutes?: number;
  /** Hours a day a status page is open (each refresh is one invocation and one GET). */
  pageHoursPerDay: number;
  pageRefreshSeconds: number;
  /** Seconds between Prometheus scrapes of /api/metrics; undefined: no scraper. */
  scrapeIntervalSeconds?: number;
  /** Stored sizes of the tick's documents, in bytes as stored (gzipped, base64). */
  stateBytes: number;
  /** The status document as served to a scrape or GET /api/status, gzipped (built at view time, never stored). */
  statusBytes: number;
  /** The ledger (what each channel was told), read and written by every tick (default: TYPICAL_BYTES). */
  ledgerBytes?: number;
  /** The past documents: the closed slots of 24 hours, and the closed days of the 90-day history (default: TYPICAL_BYTES). */
  pastSlotsBytes?: number;
  pastDaysBytes?: number;
  /** Bytes one status page view serves, gzipped (default TYPICAL_PAGE_BYTES); a scrape serves about the status document's size. */
  pageBytes?: number;
  /**
   * Average run time of a tick, seconds (default TYPICAL_TICK_SECONDS). In the per-probe topology, of
   * every invocation that runs a tick, the probe functions' and the evaluation's alike, its wait for the
   * lock included (what `--measured` reads: each records its own from before it asks for the lock); unset
   * there, PER_PROBE_SECONDS, and the waits estimated on top.
   */
  tickSeconds?: number;
  /** The functions' memory, GB (Netlify's default: 1). */
  functionMemoryGb?: number;
  /** Production deploys a month (15 credits each). */
  deploysPerMonth?: number;
}

/** Netlify's bill in credits, and the units it is made of. */
export interface NetlifyBill {
  tickSeconds: number;
  memoryGb: number;
  /** The tick, the views; per probe: the probe functions' runs and their waits for the lock. */
  gbHours: { tick: number; views: number; probes?: number; waits?: number };
  webRequests: number;
  bandwidthBytes: number;
  credits: { compute: number; requests: number; bandwidth: number; deploys: number };
  creditsTotal: number;
  /** The day of a 30-day month the Free plan's 300 credits run out, if they do. */
  freeCreditsLastDay?: number;
}

/** What being watched costs Beacon a month. */
export interface BeaconBill {
  httpRequests: number;
  /** Every statement the database runs for us: the probes' own and each new connection's SETs. */
  sqlStatements: number;
  sqlProbeStatements: number;
  sqlConnections: number;
  /** Hours our queries alone keep Beacon's Neon compute awake, and what that is in CU-hours at its smallest size. */
  neonAwakeHours: number;
  neonCuHours: number;
  /**
   * Hours Neon is awake if the runner is running whenever our requests keep it awake: a running runner's
   * outbox publisher polls the database (every 2-30 s), so Neon sleeps only while the runner is stopped too.
   */
  neonAwakeHoursWithRunner: number;
  /** Hours our requests alone keep a runner machine awake. */
  runnerAwakeHours: number;
  redisCommands: number;
}

export interface CostProjection {
  topology: CostTopology;
  invocationsPerMonth: number;
  invocations: Record<string, number>;
  storeCommandsPerMonth: number;
  storeCommands: Record<string, number>;
  /** The same total if Upstash billed a script as the commands it runs (its pricing does not say). */
  storeCommandsIfScriptsCountInside: number;
  storeTransferBytesPerMonth: number;
  /** Bytes the store holds: the state, the ledger and the past documents. */
  storeStorageBytes: number;
  netlify: NetlifyBill;
  beacon: BeaconBill;
  warnings: string[];
  /** A hard cap is passed: the sentinel (and, for Netlify, every site of its team) would stop mid-month. */
  overFreeTier: boolean;
}

/** A month is 30 days: 43,200 minutes. */
export const MONTH_MINUTES = 43_200;

/** The cost of `minutes` (a month unless told; a test projects one hour and counts it at the bridge). */
export function projectCost(given: CostInputs, minutes = MONTH_MINUTES): CostProjection {
  const input = { ledgerBytes: TYPICAL_BYTES.ledger, pastSlotsBytes: TYPICAL_BYTES.pastSlots, pastDaysBytes: TYPICAL_BYTES.pastDays, ...given };
  const days = minutes / 1440;
  const runsPerMonth = (schedule: string) => runsIn(schedule, minutes);
  const ticks = runsPerMonth(input.tickSchedule);
  const views = Math.round((input.pageHoursPerDay * 3600 * days) / input.pageRefreshSeconds);
  const scrapes = input.scrapeIntervalSeconds ? Math.round((86_400 * days) / input.scrapeIntervalSeconds) : 0;
  const canaries = input.canaryEnabled ? Math.ceil(minutes / input.canaryIntervalMinutes) : 0;

  const tickSeconds = input.tickSeconds ?? (input.topology === "per-probe" ? PER_PROBE_SECONDS.evaluation : TYPICAL_TICK_SECONDS);
  const perProbe: PerProbeMonth | undefined = input.topology === "per-probe"
    ? perProbeMonth({ tickSchedule: input.tickSchedule, schedules: input.schedules, beacon: BEACON_PER_RUN, minutes, holdSeconds: input.tickSeconds ?? PER_PROBE_SECONDS.probeRun, probeSeconds: input.tickSeconds ?? PER_PROBE_SECONDS.probeRun, waitsInRunTime: input.tickSeconds !== undefined })
    : undefined;
  const invocations = { tick: ticks, ...perProbe?.invocations, "status-page": views, "api-metrics": scrapes };
  const slotCloses = Math.floor(minutes / PAST_SLOT_MINUTES);
  const dayCloses = Math.floor(days);
  const storeCommands = {
    ticks: ticks * TICK_COMMANDS,
    ...perProbe?.storeCommands,
    "past reads": slotCloses * PAST_READ_COMMANDS,
    "status views": views * VIEW_COMMANDS,
    scrapes: scrapes * VIEW_COMMANDS,
    "canary claims": canaries * CANARY_COMMANDS.asBilledIfScriptIsOne,
  };
  // Replies come as JSON text (runtime.ts: responseEncoding off). A tick reads the state and the ledger and
  // writes them back; every 15 minutes the closed slots, once a day the closed days, are read and written
  // once; a view reads the state, the ledger and both past documents and builds the status document from
  // them (it is never stored). Each request also carries its envelope: JSON, the lock's token, the
  // scripts' text (ENVELOPE_BYTES, counted at the bridge).
  const tickBytes = 2 * input.stateBytes + 2 * input.ledgerBytes + ENVELOPE_BYTES.tick;
  const viewBytes = input.stateBytes + input.ledgerBytes + input.pastSlotsBytes + input.pastDaysBytes + ENVELOPE_BYTES.view;
  // A probe function reads and writes what a tick does; a try that finds the lock held still reads the state and the ledger.
  const runs = ticks + (perProbe?.probeRuns ?? 0);
  const waitBytes = perProbe ? (perProbe.storeCommands["lock waits"] / BEGIN_COMMANDS) * (input.stateBytes + input.ledgerBytes) : 0;
  const transfer = runs * tickBytes + waitBytes + slotCloses * (2 * input.pastSlotsBytes + ENVELOPE_BYTES.pastRead) + dayCloses * 2 * input.pastDaysBytes + (views + scrapes) * viewBytes;

  let httpRequests = 0, sqlProbeStatements = 0, redisCommands = 0;
  for (const [id, schedule] of Object.entries(input.schedules)) {
    const per = BEACON_PER_RUN[id];
    if (!per) continue;
    const runs = id === "canary" ? canaries * CANARY_FOLLOW_RUNS : runsPerMonth(schedule);
    httpRequests += runs * (per.http + (per.perHealthUrl ?? 0) * input.healthUrls) + (id === "canary" ? canaries : 0);
    sqlProbeStatements += runs * per.sql;
    // A command sent on the minutes divisible by N only (health's PING): the runs that fall on one (a probe run every minute: minutes / N).
    redisCommands += (per.redisEveryMinutes ? Math.min(runs, Math.ceil(minutes / per.redisEveryMinutes)) : runs) * per.redis;
  }
  const touch = beaconMinutes(input, minutes);
  // Each probe function opens its own connection; the tick shares one among the probes it runs.
  const sqlConnections = perProbe ? perProbe.sqlConnections : count(touch.sql) * SQL_CONNECTIONS_PER_TICK;
  const neonAwakeHours = count(awake(touch.sql, BEACON_PLANS.neonSuspendMinutes)) / 60;
  const runnerAwake = awake(touch.http, BEACON_PLANS.runnerIdleMinutes);
  const beacon: BeaconBill = {
    httpRequests, sqlProbeStatements, sqlConnections, sqlStatements: sqlProbeStatements + sqlConnections * SQL_SETS_PER_CONNECTION,
    neonAwakeHours, neonCuHours: neonAwakeHours * BEACON_PLANS.neonMinCu, runnerAwakeHours: count(runnerAwake) / 60, redisCommands,
    neonAwakeHoursWithRunner: count(awake(runnerAwake.map((r, m) => r | touch.sql[m]!), BEACON_PLANS.neonSuspendMinutes)) / 60,
  };

  const memoryGb = input.functionMemoryGb ?? NETLIFY.defaultMemoryGb;
  const gb = (seconds: number) => (seconds * memoryGb) / 3600;
  const gbHours = { tick: gb(ticks * tickSeconds), views: gb((views + scrapes) * VIEW_SECONDS), ...(perProbe ? { probes: gb(perProbe.seconds.probes), waits: gb(perProbe.seconds.waits) } : {}) };
  const webRequests = views + scrapes;
  const bandwidthBytes = views * (input.pageBytes ?? TYPICAL_PAGE_BYTES) + scrapes * input.statusBytes;
  const credits = {
    compute: sum(gbHours) * NETLIFY.creditsPerGbHour,
    requests: (webRequests / 10_000) * NETLIFY.creditsPer10kRequests,
    bandwidth: (bandwidthBytes / 1024 ** 3) * NETLIFY.creditsPerGb,
    deploys: (input.deploysPerMonth ?? 0) * NETLIFY.creditsPerDeploy,
  };
  const creditsTotal = sum(credits);
  const netlify: NetlifyBill = {
    tickSeconds, memoryGb, gbHours, webRequests, bandwidthBytes, credits, creditsTotal,
    ...(creditsTotal > NETLIFY.freeCredits ? { freeCreditsLastDay: Math.floor((NETLIFY.freeCredits / creditsTotal) * days) + 1 } : {}),
  };

  const invocationsPerMonth = sum(invocations);
  const storeCommandsPerMonth = sum(storeCommands);
  const warnings: string[] = [];
  const check = (what: string, value: number, budget: number, free: number, unit = (n: number) => n.toLocaleString("en-US")) => {
    if (value > free) warnings.push(`${what}: ${unit(value)} a month is over the free tier (${unit(free)}): the sentinel would go blind mid-month`);
    else if (value > budget) warnings.push(`${what}: ${unit(value)} a month is over this project's budget (${unit(budget)})`);
  };
  check("function invocations", invocationsPerMonth, BUDGET.invocations, FREE_TIER.invocations);
  check("store commands", storeCommandsPerMonth, BUDGET.storeCommands, FREE_TIER.storeCommands);
  check("store transfer", transfer, BUDGET.storeTransferBytes, FREE_TIER.storeTransferBytes, gigabytes);
  const whole = (n: number) => Math.round(n).toLocaleString("en-US");
  if (netlify.freeCreditsLastDay !== undefined) {
    warnings.push(`Netlify credits: ${whole(creditsTotal)} a month is over the Free plan's ${NETLIFY.freeCredits}. They would run out on day ${netlify.freeCreditsLastDay}, and Netlify then pauses EVERY site of the team until the month ends: the sentinel goes blind, and Beacon's portal goes offline too if it is in the same team. Move the sentinel to its own team, or onto a paid plan, or slow the tick`);
  } else if (creditsTotal > 0.8 * NETLIFY.freeCredits) {
    warnings.push(`Netlify credits: ${whole(creditsTotal)} a month is ${Math.round((creditsTotal / NETLIFY.freeCredits) * 100)}% of the Free plan's ${NETLIFY.freeCredits}, a hard cap for the whole team: the team's other sites (Beacon's portal, if it is in the same team) have ${whole(NETLIFY.freeCredits - creditsTotal)} left between them before Netlify pauses every site`);
  }
  if (beacon.neonCuHours > BEACON_PLANS.neonFreeCuHours) {
    warnings.push(`Beacon's database: our queries alone keep its Neon compute awake ${whole(beacon.neonAwakeHours)} hours a month, ${whole(beacon.neonCuHours)} CU-hours, more than Neon's free plan gives (${BEACON_PLANS.neonFreeCuHours}); on that plan, and with Beacon otherwise idle, the database would be stopped before the month ends. Let it sleep with SENTINEL_SETTINGS {"beacon":{"database":{"everyMinutes":30}}} (README: "Letting Neon sleep", with what it costs in detection time)`);
  }
  if (beacon.redisCommands > 0.5 * BEACON_PLANS.queueFreeCommands) {
    warnings.push(`Beacon's queue Redis: ${whole(beacon.redisCommands)} commands a month from watching it, ${Math.round((beacon.redisCommands / BEACON_PLANS.queueFreeCommands) * 100)}% of an Upstash free tier on their own`);
  }
  const storeStorageBytes = input.stateBytes + input.ledgerBytes + input.pastSlotsBytes + input.pastDaysBytes;
  return {
    topology: input.topology ?? "tick", invocationsPerMonth, invocations, storeCommandsPerMonth, storeCommands,
    storeCommandsIfScriptsCountInside: storeCommandsPerMonth + canaries * (CANARY_COMMANDS.ifScriptCountsItsCommands - CANARY_COMMANDS.asBilledIfScriptIsOne)
      + runs * (TICK_SCRIPTS.commandsInside - TICK_SCRIPTS.perTick),
    storeTransferBytesPerMonth: transfer, storeStorageBytes, netlify, beacon, warnings,
    overFreeTier: warnings.some((w) => w.includes("over the free tier")) || netlify.freeCreditsLastDay !== undefined,
  };
}

export function gigabytes(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** Minutes of the month in which we query Beacon's database, and in which we send it HTTP requests. */
function beaconMinutes(input: CostInputs, minutes: number): { sql: Uint8Array; http: Uint8Array } {
  const sql = new Uint8Array(minutes);
  const http = new Uint8Array(minutes);
  const week = 7 * 1440;
  for (const [id, schedule] of Object.entries(input.schedules)) {
    const per = BEACON_PER_RUN[id];
    if (!per || (per.sql === 0 && !per.sqlConnects && per.http === 0 && !per.perHealthUrl)) continue;
    let runs: (m: number) => boolean;
    if (id === "canary") {
      // A canary is submitted every interval and followed for the next runs; an idle canary run touches nothing.
      if (!input.canaryEnabled) continue;
      runs = (m) => m % input.canaryIntervalMinutes < CANARY_FOLLOW_RUNS;
    } else {
      const marks = weekMinutes(schedule);
      runs = (m) => marks[m % week] === 1;
    }
    // Health's connection (its `database` check) runs on its own cadence, on the minutes divisible by it.
    const connects = (m: number) => per.sql > 0 || (per.sqlConnects === true && m % (input.databaseEveryMinutes ?? 1) === 0);
    for (let m = 0; m < minutes; m++) {
      if (!runs(m)) continue;
      if (connects(m)) sql[m] = 1;
      if (per.http > 0 || (per.perHealthUrl && input.healthUrls > 0)) http[m] = 1;
    }
  }
  return { sql, http };
}

/** The minutes something is awake when each marked minute wakes it and it sleeps after `idle` quiet minutes (the month taken as repeating). */
function awake(marks: Uint8Array, idle: number): Uint8Array {
  const out = new Uint8Array(marks.length);
  for (let m = 0; m < marks.length; m++) {
    for (let back = 0; back < idle && back < marks.length; back++) {
      if (marks[(m - back + marks.length) % marks.length]) {
        out[m] = 1;
        break;
      }
    }
  }
  return out;
}

function count(marks: Uint8Array): number {
  let n = 0;
  for (const x of marks) n += x;
  return n;
}

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}
