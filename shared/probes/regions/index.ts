import { z } from "zod";
import { check, type Check } from "../../result.ts";
import { errorText } from "../../error-text.ts";
import { REGIONS, RegionsSection } from "./definition.ts";
import type { Probe, ProbeContext } from "../types.ts";
import { RegionsSettings } from "./settings.ts";
import { coveringGapSeconds } from "../settings.ts";
import { queryRegions } from "./query.ts";
import { judgeRegions } from "./judge.ts";
import { judgeRestartLost, type RunnerStart } from "./restart.ts";
import { routerCheck, runnerServices, runnerStart } from "./providers.ts";

/** What the probe keeps between runs: the SLI mark, the runner's last start, and the grid for the status page. */
export const RegionsState = z.object({
  /** Highest finished execution id counted as an SLI event. */
  mark: z.number().int().nonnegative().nullable().optional(),
  /** The runner's `process_start_time_seconds` at the previous run. */
  startSeconds: z.number().optional(),
  grid: RegionsSection.optional(),
}).loose();
export type RegionsState = z.infer<typeof RegionsState>;

type Ctx = ProbeContext<RegionsSettings>;

/**
 * Per region × model execution health from Beacon's database, so that a region failing inside
 * `completed` jobs (Beacon completes a job at min_success_rate) is named with its model, dominant
 * cause and example executions; plus restart-lost cross-region jobs and the providers (runner /health
 * services, hybrid router). Cost per run: one SQL statement, two HTTP requests to the runner
 * (/health, /metrics), one to the router when BEACON_ROUTER_URL is set. Stateful: the SLI mark, the
 * runner's start time and the 24-hour grid ride in the probe state.
 */
export const regionsProbe: Probe<RegionsSettings> & typeof REGIONS = {
  ...REGIONS,
  async run(ctx) {
    const s = ctx.settings;
    const previous = RegionsState.safeParse(ctx.previousState ?? {});
    const prev: RegionsState = previous.success ? previous.data : {};
    const fetcher = { fetch: ctx.deps.fetch, now: ctx.deps.now, timeoutMs: s.requestTimeoutMs, maxBytes: s.maxBodyBytes, signal: ctx.signal };
    const { apiUrl, routerUrl } = ctx.targets;
    const { sql } = ctx.deps;
    const [rows, services, start] = await Promise.allSettled([
      sql ? queryRegions(sql, ctx.beacon.tables, {
        windowSeconds: s.windowSeconds, gridWindowSeconds: s.gridWindowSeconds, mark: prev.mark ?? null,
        initialWindowSeconds: coveringGapSeconds(s.sliInitialWindowSeconds, ctx.beacon), askedSettleSeconds: s.askedSettleSeconds,
        exampleIds: s.exampleIds, queuedLimit: s.queuedLimit,
        regionNames: ctx.beacon.regions, routerClientTimeoutSeconds: ctx.beacon.runner.routerClientTimeoutSeconds,
        gridRowLimit: s.gridRowLimit,
      }) : Promise.reject(new Error("not measured: BEACON_DATABASE_URL is not set")),
      apiUrl ? runnerServices(apiUrl, fetcher) : Promise.resolve([]),
      apiUrl ? runnerStart(apiUrl, fetcher) : Promise.resolve<RunnerStart>({ error: "BEACON_API_URL is not set" }),
    ]);
    const runner: RunnerStart = start.status === "fulfilled" ? start.value : { error: errorText(start.reason) };
    const checks: Check[] = [];
    const state: RegionsState = { ...prev, ...(runner.startSeconds !== undefined ? { startSeconds: runner.startSeconds } : {}) };
    let events;
    let inUse: string[] = [...s.expectedRegions];
    if (rows.status === "fulfilled") {
      const judged = judgeRegions(rows.value, prev.mark ?? null, s, ctx.deps.now());
      checks.push(...judged.checks, judgeRestartLost(rows.value, runner, prev.startSeconds));
      events = judged.events;
      inUse = judged.grid.regions;
      Object.assign(state, { mark: judged.mark, grid: judged.grid });
    } else {
      // The mark is kept: the next run that reads the database counts what this one missed.
      const label = ctx.targets.databaseLabel ?? "database";
      const why = `${label}: ${errorText(rows.reason)}`;
      checks.push(check({ name: "regions", status: "error", observed: null, threshold: null, message: why, evidence: [label] }));
      checks.push(check({ name: "restart-lost", status: "error", observed: null, threshold: null, message: why, evidence: [label] }));
    }
    if (services.status === "fulfilled") checks.push(...services.value);
    if (routerUrl) checks.push(await routerCheck(routerUrl, inUse, fetcher));
    return { checks, ...(events ? { events } : {}), state };
  },
};
