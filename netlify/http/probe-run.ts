import { findProbe, PROBE_IDS } from "../../shared/probes/catalog.ts";
import { runProbe } from "../../shared/runner.ts";
import type { TickReport } from "../../shared/tick/run.ts";
import { tick } from "../tick.ts";
import { badRequest, HttpError } from "./errors.ts";
import type { Route } from "./handler.ts";
import { parseQuery, QueryFlag, readJsonBody } from "./input.ts";
import { ADMIN_RATE_LIMIT, type RateLimit } from "./rate-limit.ts";
import { json } from "./respond.ts";

const PATH = /^\/api\/probes\/([^/]*)\/run\/?$/;

/**
 * How long a manual run waits for a tick in progress: a tick usually ends within a couple of seconds,
 * and a synchronous Netlify function is ended at 10 s by default. Past it the route answers 202 with
 * the running tick's id at once, instead of holding the caller (it used to wait 10 s, then 503).
 */
export const MANUAL_RUN_WAIT_MS = 5_000;
/** Retry-After of that 202: a tick holds its lock at most 30 s and usually ends well inside it. */
const RETRY_AFTER_S = 10;

/**
 * POST /api/probes/:id/run[?dry_run=true]: runs a probe now, through the same tick as the schedule
 * (recorded, judged, and what it decides is sent), against the configured targets only (a caller
 * chooses which probe, never where it looks). dry_run: nothing is stored or sent. `notify=true` is
 * accepted for compatibility: a stored run is always evaluated.
 */
export function probeRunRoute(options: { rateLimit?: RateLimit } = {}): Route {
  return {
    name: "api-probe-run", methods: ["POST"], access: "admin", rateLimit: options.rateLimit ?? ADMIN_RATE_LIMIT,
    async handle({ req, url, rt }) {
      const query = parseQuery(url, { dry_run: QueryFlag.optional(), notify: QueryFlag.optional() });
      const id = probeId(url);
      const probe = findProbe(id);
      if (!probe) {
        throw new HttpError(404, "unknown_probe", `no probe "${id.slice(0, 40)}"; known probes: ${PROBE_IDS.join(", ")}`, { known: PROBE_IDS });
      }
      if (query.dry_run && query.notify) throw badRequest("notify needs the result stored: drop dry_run=true, or drop notify=true");
      if ((await readJsonBody(req, 1024)) !== undefined) throw badRequest("this route takes no body: options go in the query string (dry_run, notify)");
      const dryRun = query.dry_run ?? false;
      if (!dryRun && !rt.store) throw new HttpError(503, "store_not_configured", "the sentinel's store is not configured; use dry_run=true");
      if (dryRun) {
        const result = await runProbe(probe, { deps: { ...rt.deps, claims: undefined }, settings: rt.config.settings, targets: rt.targets, redact: rt.redact, manual: true });
        rt.log.info("manual probe run", { probe: probe.id, status: result.status, dryRun });
        return json(200, { version: 1, result, stored: false }, { "cache-control": "no-store" });
      }
      const report = await tick(rt, { write: true, probes: [probe.id], lockWaitMs: MANUAL_RUN_WAIT_MS });
      const result = report.results[0];
      if (!result && report.skipReason === "locked") {
        // Not run: a tick is still running. Said at once, with that tick's id, so the caller can find it in the log and retry.
        rt.log.info("manual probe run not started: a tick is running", { probe: probe.id, runningTick: report.runningTick ?? null });
        return json(202, {
          version: 1, stored: false, ran: false, runningTick: report.runningTick ?? null, retryAfterSeconds: RETRY_AFTER_S,
          message: `a tick${report.runningTick ? ` (${report.runningTick})` : ""} is running; this run was not started: retry in ${RETRY_AFTER_S} s`,
        }, { "cache-control": "no-store", "retry-after": String(RETRY_AFTER_S) });
      }
      if (!result) throw new HttpError(503, "busy", `the probe did not run: ${report.skipped ?? "try again in a few seconds"}`);
      rt.log.info("manual probe run", { probe: probe.id, status: result.status, dryRun, lost: report.lost, tickId: report.tickId });
      return json(200, { version: 1, result, stored: report.lost === 0 && !report.skipped, tickId: report.tickId ?? null, fanIn: fanInSummary(report) }, { "cache-control": "no-store" });
    },
  };
}

function probeId(url: URL): string {
  try {
    return decodeURIComponent(PATH.exec(url.pathname)?.[1] ?? "");
  } catch {
    throw badRequest("the probe id in the path is not valid percent-encoding");
  }
}

/** What the fan-in decided, without the SLO detail the status API already serves. */
function fanInSummary(r: TickReport) {
  return {
    ...(r.skipped ? { skipped: r.skipped } : {}),
    consumed: r.results.length, delivered: r.delivered, pending: r.pending,
    firing: r.firing.map((a) => ({ key: a.key, since: a.since ?? null, heldBy: a.heldBy ?? null, message: a.snapshot.message })),
    notifications: r.notifications.map((n) => ({ kind: n.kind, alertKey: n.alertKey, severity: n.severity, title: n.title, message: n.message })),
  };
}
