import { check, type Check } from "../../result.ts";
import { boundedFetch, excerpt } from "../../http.ts";
import { safeUrl } from "../../redact.ts";
import { TRAFFIC } from "./definition.ts";
import type { Probe, ProbeContext, ProbeOutput } from "../types.ts";
import { parseExposition, type Sample } from "./exposition.ts";
import { counterDeltas, readCounters, subtractOwn, toState, TrafficState, type Reading } from "./counters.ts";
import { addOwnRequests, runnerOf, takeOwnRequests } from "../../beacon/own-requests.ts";
import { judgeWindow, unmeasured } from "./checks.ts";
import { TrafficSettings } from "./settings.ts";

type Ctx = ProbeContext<TrafficSettings>;

/**
 * Scrapes Beacon's Prometheus endpoint once per run and turns counter increases since the previous run
 * into checks and SLI events (`requests`, `jobs`, `queue-latency`). One HTTP request per run; the
 * previous counters come from the runner (one store read) and the new ones go back with the result.
 */
export const trafficProbe: Probe<TrafficSettings> & typeof TRAFFIC = {
  ...TRAFFIC,
  async run(ctx) {
    const { apiUrl } = ctx.targets;
    if (!apiUrl) {
      const message = "not measured: BEACON_API_URL is not set";
      return { checks: [check({ name: "scrape", status: "error", observed: null, threshold: null, message }), ...unmeasured("error", message)] };
    }
    const scraped = await scrape(ctx, new URL(ctx.beacon.routes.metrics, apiUrl).href);
    if (!scraped.ok) return { checks: [scraped.check, ...unmeasured("error", "not measured: the scrape failed")] };
    return compare(ctx, scraped.samples, scraped.check, runnerOf(apiUrl));
  },
};

type Scraped = { ok: true; samples: Sample[]; check: Check } | { ok: false; check: Check };

async function scrape(ctx: Ctx, url: string): Promise<Scraped> {
  const { settings, deps } = ctx;
  const shown = safeUrl(url);
  const fail = (observed: Check["observed"], threshold: string, message: string, evidence: string[]): Scraped =>
    ({ ok: false, check: check({ name: "scrape", status: "fail", observed, threshold, message: `${shown}: ${message}`, evidence: [shown, ...evidence] }) });
  const res = await boundedFetch(url, {
    fetch: deps.fetch, now: deps.now, signal: ctx.signal,
    timeoutMs: settings.requestTimeoutMs, maxBytes: settings.maxBodyBytes,
    headers: { accept: "text/plain;version=0.0.4;q=1,*/*;q=0.1" },
  });
  if (!res.ok) return fail(res.failure, "2xx Prometheus text", res.message, []);
  if (res.status < 200 || res.status > 299) return fail(res.status, "2xx", `HTTP ${res.status}`, [`body: ${excerpt(res.text) || "(empty)"}`]);
  if (res.truncated) return fail(res.bytes, `body <= ${settings.maxBodyBytes} bytes`, `body larger than ${settings.maxBodyBytes} bytes`, []);
  const parsed = parseExposition(res.text);
  if (!parsed.ok) return fail(res.status, "Prometheus text format", parsed.message, parsed.evidence);
  return {
    ok: true,
    samples: parsed.samples,
    check: check({ name: "scrape", status: "pass", observed: parsed.samples.length, threshold: null,
      message: `${shown}: ${parsed.samples.length} samples, ${res.bytes} bytes in ${res.durationMs} ms` }),
  };
}

function compare(ctx: Ctx, samples: Sample[], scrapeCheck: Check, runner: string): ProbeOutput {
  const { settings } = ctx;
  const now = ctx.deps.now();
  const { health, ready, live, metrics } = ctx.beacon.routes;
  const ignorePaths = [...new Set([...settings.ignorePaths, health, ready, live, metrics])];
  const reading = readCounters(samples, settings.metrics, { ignorePaths, latencyTargetSeconds: settings.queueLatencyTargetSeconds });
  if (reading.invalid.length > 0) {
    const bad = check({ name: "scrape", status: "fail", observed: reading.invalid.length, threshold: "counters finite and >= 0",
      message: `${scrapeCheck.message}, but ${reading.invalid.length} counter samples are negative or not finite`, evidence: reading.invalid });
    return { checks: [bad, ...unmeasured("error", "not measured: counters are invalid")] };
  }
  const state = toState(reading, now, runner);
  const previous = TrafficState.safeParse(ctx.previousState);
  const why = baselineReason(ctx.previousState, previous.success ? previous.data : undefined, reading, now, settings);
  if (why || !previous.success) {
    takeOwnRequests(runner); // made before this baseline: no delta to take them from
    const message = `baseline recorded (${Object.keys(reading.series).length} series${why ? `; ${why}` : ""}): deltas start next run`;
    return { checks: [scrapeCheck, ...unmeasured("pass", message)], state };
  }

  const counted = counterDeltas(previous.data, reading);
  const { resets, restarted } = counted;
  // Our own requests since the previous scrape: the ones the previous tick made after it (carried in the
  // state) and the ones this process made since (shared/beacon/own-requests.ts).
  const own = subtractOwn(counted.deltas, addOwnRequests(previous.data.own, takeOwnRequests(runner)), ignorePaths);
  const deltas = own.deltas;
  const seconds = Math.round((now.getTime() - Date.parse(previous.data.scrapedAt)) / 1000);
  const judged = judgeWindow({ deltas, reading, since: `since ${previous.data.scrapedAt} (${seconds} s)` }, settings);
  const events = judged.events;
  const ownNote = `; ${own.subtracted} of the sentinel's own requests left out${own.unmatched ? ` (${own.unmatched} more found no matching increase)` : ""}`;
  const checks = judged.checks.map((c) => (c.name === "requests" ? { ...c, message: c.message + ownNote } : c));
  const resetNote = restarted ? "; the runner restarted (process start time changed): current values are the increase"
    : resets.length ? `; ${resets.length} counters reset (current value taken as the increase): ${resets.slice(0, 3).join(", ")}` : "";
  return { checks: [{ ...scrapeCheck, message: scrapeCheck.message + resetNote }, ...checks], events, state };
}

/** Why this run records a baseline instead of diffing, or undefined to diff. */
function baselineReason(raw: unknown, previous: TrafficState | undefined, reading: Reading, now: Date, s: TrafficSettings): string | undefined {
  if (raw === undefined) return "first scrape";
  if (!previous) return "previous state unreadable";
  const ageMs = now.getTime() - Date.parse(previous.scrapedAt);
  if (ageMs < 0) return "previous scrape is in the future";
  if (ageMs > s.maxBaselineAgeMinutes * 60_000) return `previous scrape ${Math.round(ageMs / 60_000)} min old, older than ${s.maxBaselineAgeMinutes} min`;
  // A histogram appears with its first observation (null -> le is normal); a different le is not comparable.
  if (previous.latencyLe !== null && reading.latencyLe !== null && previous.latencyLe !== reading.latencyLe) {
    return `queue-latency bucket changed from le=${previous.latencyLe} to le=${reading.latencyLe}`;
  }
  return undefined;
}
