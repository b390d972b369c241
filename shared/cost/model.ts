import { runsIn } from "../schedule.ts";
import { CATALOG } from "../probes/catalog.ts";
import type { BeaconWork } from "../probes/types.ts";

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
/** One status view, badge or scrape: one GET of the status document. */
export const VIEW_COMMANDS = 1;
/** A canary submission claims its slot (SET NX) and releases it when settled (EVAL of GET + DEL). */
export const CANARY_COMMANDS = { asBilledIfScriptIsOne: 2, ifScriptCountsItsCommands: 3 } as const;

/** Work on Beacon's side per probe run, as each probe's definition declares it (`beaconPerRun`). */
export const BEACON_PER_RUN: Record<string, BeaconWork> = Object.fromEntries(CATALOG.flatMap((p) => (p.beaconPerRun ? [[p.id, p.beaconPerRun]] : [])));
/** Minutes a canary is followed on average before it settles (a healthy pipeline: a couple of minutes). */
const CANARY_FOLLOW_RUNS = 3;

export interface CostInputs {
  tickSchedule: string;
  /** Effective cadence of each probe. */
  schedules: Record<string, string>;
  healthUrls: number;
  canaryEnabled: boolean;
  canaryIntervalMinutes: number;
  /** Hours a day a status page is open (each refresh is one invocation and one GET). */
  pageHoursPerDay: number;
  pageRefreshSeconds: number;
  /** Seconds between Prometheus scrapes of /api/metrics; undefined: no scraper. */
  scrapeIntervalSeconds?: number;
  /** Stored sizes of the tick's documents, in bytes as stored (gzipped, base64). */
  stateBytes: number;
  statusBytes: number;
}

export interface CostProjection {
  invocationsPerMonth: number;
  invocations: Record<string, number>;
  storeCommandsPerMonth: number;
  storeCommands: Record<string, number>;
  /** The same total if Upstash billed a script as the commands it runs (its pricing does not say). */
  storeCommandsIfScriptsCountInside: number;
  storeTransferBytesPerMonth: number;
  beacon: { httpRequests: number; sqlStatements: number; redisCommands: number };
  warnings: string[];
}

/** A month is 30 days: 43,200 minutes. */
export const MONTH_MINUTES = 43_200;

/** The cost of `minutes` (a month unless told; a test projects one hour and counts it at the bridge). */
export function projectCost(input: CostInputs, minutes = MONTH_MINUTES): CostProjection {
  const days = minutes / 1440;
  const runsPerMonth = (schedule: string) => runsIn(schedule, minutes);
  const ticks = runsPerMonth(input.tickSchedule);
  const views = Math.round((input.pageHoursPerDay * 3600 * days) / input.pageRefreshSeconds);
  const scrapes = input.scrapeIntervalSeconds ? Math.round((86_400 * days) / input.scrapeIntervalSeconds) : 0;
  const canaries = input.canaryEnabled ? Math.ceil(minutes / input.canaryIntervalMinutes) : 0;

  const invocations = { tick: ticks, "status-page": views, "api-metrics": scrapes };
  const storeCommands = {
    ticks: ticks * TICK_COMMANDS,
    "status views": views * VIEW_COMMANDS,
    scrapes: scrapes * VIEW_COMMANDS,
    "canary claims": canaries * CANARY_COMMANDS.asBilledIfScriptIsOne,
  };
  // Upstash's REST API answers in base64 (a third larger); a tick reads the state and writes state and status.
  const b64 = (n: number) => Math.ceil((n * 4) / 3);
  const transfer = ticks * (b64(input.stateBytes) + input.stateBytes + input.statusBytes) + (views + scrapes) * b64(input.statusBytes);

  const beacon = { httpRequests: 0, sqlStatements: 0, redisCommands: 0 };
  for (const [id, schedule] of Object.entries(input.schedules)) {
    const per = BEACON_PER_RUN[id];
    if (!per) continue;
    const runs = id === "canary" ? canaries * CANARY_FOLLOW_RUNS : runsPerMonth(schedule);
    beacon.httpRequests += runs * (per.http + (per.perHealthUrl ?? 0) * input.healthUrls) + (id === "canary" ? canaries : 0);
    beacon.sqlStatements += runs * per.sql;
    beacon.redisCommands += runs * per.redis;
  }

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
  return {
    invocationsPerMonth, invocations, storeCommandsPerMonth, storeCommands,
    storeCommandsIfScriptsCountInside: storeCommandsPerMonth + canaries * (CANARY_COMMANDS.ifScriptCountsItsCommands - CANARY_COMMANDS.asBilledIfScriptIsOne)
      + ticks * (TICK_SCRIPTS.commandsInside - TICK_SCRIPTS.perTick),
    storeTransferBytesPerMonth: transfer, beacon, warnings,
  };
}

export function gigabytes(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}
