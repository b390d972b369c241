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
        const result = await runProbe(probe, { deps: { ...rt.deps, claims: undefined }, settings: rt.config.settings, targets: rt.targets, redact: rt.redact });
        rt.log.info("manual probe run", { probe: probe.id, status: result.status, dryRun });
        return json(200, { version: 1, result, stored: false }, { "cache-control": "no-store" });
      }
      const report = await tick(rt, { write: true, probes: [probe.id], lockWaitMs: 10_000 });
      const result = report.results[0];
      if (!result) throw new HttpError(503, "busy", `a scheduled tick is still running: ${report.skipped ?? "try again in a few seconds"}`);
      rt.log.info("manual probe run", { probe: probe.id, status: result.status, dryRun, lost: report.lost });
      return json(200, { version: 1, result, stored: report.lost === 0 && !report.skipped, fanIn: fanInSummary(report) }, { "cache-control": "no-store" });
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
