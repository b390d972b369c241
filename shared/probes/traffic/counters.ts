import { z } from "zod";
import type { Sample } from "./exposition.ts";
import { addOwnRequests, parseOwnRequestKey, takeOwnRequests } from "../../beacon/own-requests.ts";

/** Beacon's metric names (`internal/metrics/metrics.go`); configurable because deployments drift. */
export interface MetricNames {
  requests: string;
  jobsProcessed: string;
  jobsFailed: string;
  queueLatency: string;
}

/**
 * The counters one scrape yields, reduced to what the checks need. Keys:
 * - `req|<status>` for requests that did not answer 5xx, summed over path and method;
 * - `req|<status>|<path>` for 5xx answers, kept per route so evidence can name it;
 * - `jobs|processed`, `jobs|failed`;
 * - `lat|good|<region>` (bucket `le`), `lat|total|<region>` (`_count`).
 */
export interface Reading {
  series: Record<string, number>;
  /** `process_start_time_seconds`, when exported: a change means the runner restarted. */
  processStart?: number;
  /** The queue-latency bucket used, or null when the histogram has no bucket <= the target. */
  latencyLe: number | null;
  /** Whether each job counter was exported at all (unlabelled counters always are in Beacon). */
  hasJobCounters: boolean;
  /** Counter samples that were negative or not finite, for evidence. */
  invalid: string[];
}

/** Most request series kept per scrape; the rest are folded into `req|<status>|*`. */
const MAX_ROUTE_SERIES = 200;

export function readCounters(samples: Sample[], names: MetricNames, options: { ignorePaths: string[]; latencyTargetSeconds: number }): Reading {
  const series: Record<string, number> = {};
  const invalid: string[] = [];
  const add = (key: string, value: number, what: string) => {
    if (!Number.isFinite(value) || value < 0) {
      invalid.push(`${what} = ${value}`);
      return;
    }
    series[key] = (series[key] ?? 0) + value;
  };
  let routeSeries = 0;
  let processStart: number | undefined;
  let hasProcessed = false;
  let hasFailed = false;
  const leValues = new Set<number>();

  for (const s of samples) {
    if (s.name === names.requests) {
      if (options.ignorePaths.includes(s.labels["path"] ?? "")) continue;
      const status = s.labels["status"] ?? "unknown";
      let key = `req|${status}`;
      if (statusClass(status) === "5xx") key = routeSeries++ < MAX_ROUTE_SERIES ? `req|${status}|${s.labels["path"] ?? ""}` : `req|${status}|*`;
      add(key, s.value, `${s.name}{status="${status}"}`);
    } else if (s.name === names.jobsProcessed) {
      hasProcessed = true;
      add("jobs|processed", s.value, s.name);
    } else if (s.name === names.jobsFailed) {
      hasFailed = true;
      add("jobs|failed", s.value, s.name);
    } else if (s.name === `${names.queueLatency}_bucket`) {
      const le = Number(s.labels["le"] === "+Inf" ? Infinity : s.labels["le"]);
      if (Number.isFinite(le) && le <= options.latencyTargetSeconds) leValues.add(le);
    } else if (s.name === "process_start_time_seconds" && Number.isFinite(s.value)) {
      processStart = s.value;
    }
  }

  // The bucket at the target if Beacon has one, else the nearest below it (a lower bound of the share).
  const latencyLe = leValues.size > 0 ? Math.max(...leValues) : null;
  for (const s of samples) {
    const region = s.labels["region"] ?? "";
    if (s.name === `${names.queueLatency}_count`) add(`lat|total|${region}`, s.value, `${s.name}{region="${region}"}`);
    if (s.name === `${names.queueLatency}_bucket` && latencyLe !== null && Number(s.labels["le"]) === latencyLe) {
      add(`lat|good|${region}`, s.value, `${s.name}{region="${region}",le="${s.labels["le"]}"}`);
    }
  }
  return { series, ...(processStart !== undefined ? { processStart } : {}), latencyLe, hasJobCounters: hasProcessed && hasFailed, invalid };
}

export function statusClass(status: string): string {
  return /^[1-5]\d\d$/.test(status) ? `${status[0]}xx` : "other";
}

/** What the probe keeps between runs (ctx.previousState / ProbeOutput.state). */
export const TrafficState = z.object({
  version: z.literal(1),
  /** When the counters were read (ISO 8601). */
  scrapedAt: z.iso.datetime(),
  processStart: z.number().optional(),
  latencyLe: z.number().nullable(),
  series: z.record(z.string(), z.number().nonnegative()),
  /**
   * Our own requests to Beacon made after this scrape (by the rest of the tick that scraped), as
   * `<method> <path> <status>` counts: the next run subtracts them with the ones it records itself.
   */
  own: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** The runner scraped (origin of BEACON_API_URL): whose recorded requests the tick carries into `own`. */
  runner: z.string().optional(),
});
export type TrafficState = z.infer<typeof TrafficState>;

export function toState(reading: Reading, scrapedAt: Date, runner?: string): TrafficState {
  return {
    version: 1,
    ...(runner !== undefined ? { runner } : {}),
    scrapedAt: scrapedAt.toISOString(),
    ...(reading.processStart !== undefined ? { processStart: reading.processStart } : {}),
    latencyLe: reading.latencyLe,
    series: reading.series,
  };
}

/**
 * Counter increases since the previous scrape, like Prometheus' increase(): a series that went down was
 * reset, so its current value is the increase; a series new since the last scrape counts from zero.
 * A changed process start time means the runner restarted: every current value is an increase.
 */
export function counterDeltas(previous: TrafficState, current: Reading): { deltas: Record<string, number>; resets: string[]; restarted: boolean } {
  const restarted = previous.processStart !== undefined && current.processStart !== undefined && previous.processStart !== current.processStart;
  const deltas: Record<string, number> = {};
  const resets: string[] = [];
  for (const [key, value] of Object.entries(current.series)) {
    const before = previous.series[key];
    if (restarted || before === undefined) deltas[key] = value;
    else if (value < before) {
      deltas[key] = value;
      resets.push(key);
    } else deltas[key] = value - before;
  }
  return { deltas, resets, restarted };
}

/**
 * The deltas without our own requests (shared/beacon/own-requests.ts), each taken off the series
 * Beacon counted it in (`req|<status>`, or `req|<status>|<path>` for a 5xx), never below zero; requests
 * to ignored paths were never counted. Returns how many were subtracted, and how many found no
 * matching increase (made after the scrape read, or by a runner that restarted).
 */
export function subtractOwn(deltas: Record<string, number>, own: Record<string, number>, ignorePaths: string[]): { deltas: Record<string, number>; subtracted: number; unmatched: number } {
  const out = { ...deltas };
  let subtracted = 0;
  let unmatched = 0;
  for (const [key, count] of Object.entries(own)) {
    const parsed = parseOwnRequestKey(key);
    if (!parsed || ignorePaths.includes(parsed.path)) continue;
    const series = statusClass(parsed.status) === "5xx" ? `req|${parsed.status}|${parsed.path}` : `req|${parsed.status}`;
    const take = Math.min(count, Math.max(0, out[series] ?? 0));
    if (take > 0) out[series] = (out[series] ?? 0) - take;
    subtracted += take;
    unmatched += count - take;
  }
  return { deltas: out, subtracted, unmatched };
}

/**
 * The tick's last word before it stores the traffic probe's state: our requests recorded since the
 * scrape (in this process, to the runner it scraped) go into it, for the next run to subtract, whichever
 * process runs it. A state that is not a traffic state (no baseline yet) is returned as is, and the
 * requests stay recorded.
 */
export function carryOwnRequests(state: unknown): unknown {
  const parsed = TrafficState.safeParse(state);
  if (!parsed.success || parsed.data.runner === undefined) return state;
  const own = addOwnRequests(parsed.data.own, takeOwnRequests(parsed.data.runner));
  return Object.keys(own).length ? { ...parsed.data, own } : parsed.data;
}
