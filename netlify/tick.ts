import { PROBES } from "../shared/probes/catalog.ts";
import { measure } from "../shared/runner.ts";
import { createChannels, SEND_BUDGET_MS } from "../shared/channels/catalog.ts";
import { policyFrom, probeInfos } from "../shared/config/policy.ts";
import { runTick, type TickOptions, type TickReport } from "../shared/tick/run.ts";
import { intervalOf } from "../shared/schedule.ts";
import { evaluationRun, type RunBudget } from "../shared/tick/topology.ts";
import { errorText, storeErrorText } from "../shared/error-text.ts";
import type { Runtime } from "./runtime.ts";

/** The tick's own cadence: functions/tick.ts (a literal, because Netlify reads it statically). */
export const TICK_SCHEDULE = "* * * * *";

/** Runs one tick with the runtime's store, probes and configured channels (Slack, PagerDuty, Alertmanager, webhook). */
export async function tick(rt: Runtime, options: TickOptions): Promise<TickReport> {
  if (!rt.store) throw new Error("the tick needs the sentinel's store (SENTINEL_REDIS_REST_URL)");
  const settings = rt.config.settings;
  return runTick({
    store: rt.store,
    ledgerCopy: rt.ledgerCopy,
    probes: PROBES,
    infos: probeInfos(settings),
    measure: (probe, previousState, timeoutMs, manual) => measure(probe, { deps: rt.deps, settings, targets: rt.targets, redact: rt.redact, previousState, timeoutMs, manual }),
    policy: policyFrom(settings),
    now: rt.deps.now,
    log: rt.log,
    channels: createChannels(rt.config, { fetch: rt.deps.fetch, redact: rt.redact, now: rt.deps.now }),
    routes: settings.routes,
    settings: {
      ...settings.tick, staleFactor: settings.alerting.staleFactor, sendBudgetMs: SEND_BUDGET_MS, tickIntervalMs: intervalOf(TICK_SCHEDULE),
    },
  }, options);
}

/** What bounds a run of this runtime, for the per-probe topology's lock waits (shared/tick/topology.ts). */
export function runBudget(rt: Runtime): RunBudget {
  return { ...rt.config.settings.tick, sendBudgetMs: SEND_BUDGET_MS };
}

/**
 * What the scheduled tick runs: everything due (SENTINEL_TOPOLOGY=tick), or, when each probe has its own
 * function, no probe at all: it evaluates what they stored (missing results, SLOs) and sends what is owed.
 */
export function scheduledTickOptions(rt: Runtime): TickOptions {
  return rt.config.topology === "per-probe" ? evaluationRun(runBudget(rt)) : { write: true, lockWaitMs: 0 };
}

/**
 * The dead-man's switch (SENTINEL_HEARTBEAT_URL), in healthchecks.io's ping protocol: a request to the
 * URL says "this tick ran and stored its results"; `<url>/fail` with a short reason in the body says
 * "it ran and could not"; silence past the check's grace period says the sentinel is not running at
 * all, which nothing inside the sentinel can report. One attempt, no retry: a missed success ping
 * only brings the grace period nearer, and a late one must not hold the function past Netlify's 30 s.
 */
export const HEARTBEAT_TIMEOUT_MS = 3_000;
/** No ping starts, or runs, past this long after the tick began (Netlify ends the function at 30 s). */
export const HEARTBEAT_DEADLINE_MS = 28_000;
/** Healthchecks.io keeps the first 100 kB of a ping body; a reason needs far less: the ping carries a short summary, never the tick's data. */
export const REASON_MAX = 300;

export type Heartbeat = { ok: true; body: string } | { ok: false; reason: string };

/** What a finished tick tells the dead-man's switch; nothing when another tick held the lock. */
export function heartbeatOf(report: TickReport): Heartbeat | undefined {
  // A tick that found another tick running says nothing: that one pings.
  if (report.skipReason === "locked") return undefined;
  if (report.skipped !== undefined) {
    return { ok: false, reason: `${report.skipped}; ${report.lost} result(s) written to the function log instead` };
  }
  if (report.lost > 0) return { ok: false, reason: `tick overran its lock; ${report.lost} result(s) not stored (written to the function log)` };
  const ran = report.results.map((r) => `${r.probe}:${r.status}`).join(" ") || "none due";
  return { ok: true, body: `ran ${ran}; pending notifications ${report.pending}` };
}

/** `<url>/fail`, keeping the URL's query (a self-hosted healthchecks may carry one). */
export function heartbeatFailUrl(url: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/fail`;
  return u.href;
}

/**
 * Pings the heartbeat, bounded by HEARTBEAT_TIMEOUT_MS and by what is left before HEARTBEAT_DEADLINE_MS.
 * Never throws: a heartbeat that cannot be reached is a warning in the log (the switch itself will
 * notice the missing ping). The body is redacted; the URL is never logged (its path is the secret).
 */
export async function pingHeartbeat(rt: Runtime, beat: Heartbeat, startedAtMs: number): Promise<void> {
  const url = rt.config.heartbeatUrl;
  if (!url) return;
  // The platform's clock, not deps.now: what Netlify kills by is the wall time the function has run.
  const timeoutMs = Math.min(HEARTBEAT_TIMEOUT_MS, HEARTBEAT_DEADLINE_MS - (Date.now() - startedAtMs));
  const kind = beat.ok ? "success" : "fail";
  if (timeoutMs < 250) {
    rt.log.warn("no time left to ping the heartbeat; the dead-man's switch will see a late or missing ping", { kind });
    return;
  }
  const body = rt.redact(beat.ok ? beat.body : beat.reason).slice(0, REASON_MAX);
  try {
    const response = await rt.deps.fetch(beat.ok ? url : heartbeatFailUrl(url), {
      method: "POST", headers: { "content-type": "text/plain; charset=utf-8" }, body, signal: AbortSignal.timeout(timeoutMs), redirect: "error",
    });
    await response.body?.cancel().catch(() => {});
    if (!response.ok) rt.log.warn("the heartbeat refused the ping", { kind, status: response.status });
  } catch (error) {
    rt.log.warn("heartbeat ping failed", { kind, timeoutMs, error: rt.redact(errorText(error)).slice(0, 300) });
  }
}

/**
 * A scheduled tick (what Netlify's scheduler fires every minute): the tick, then the heartbeat ping
 * saying how it went. A tick that throws pings `/fail` with the reason and still throws, so the
 * platform logs it as a failed invocation.
 */
export async function scheduledRun(rt: Runtime): Promise<TickReport> {
  const startedAtMs = Date.now();
  let report: TickReport;
  try {
    report = await tick(rt, scheduledTickOptions(rt));
  } catch (error) {
    // The store's reason, without the request the client quotes (the tick's write: its state and ledger).
    await pingHeartbeat(rt, { ok: false, reason: `tick crashed: ${storeErrorText(error)}` }, startedAtMs);
    throw error;
  }
  const beat = heartbeatOf(report);
  if (beat) await pingHeartbeat(rt, beat, startedAtMs);
  return report;
}
