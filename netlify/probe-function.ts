import { findProbe } from "../shared/probes/catalog.ts";
import { redactDeep } from "../shared/redact.ts";
import type { TickReport } from "../shared/tick/run.ts";
import { configFailure, sharedRuntime } from "./platform.ts";
import type { Runtime } from "./runtime.ts";
import { runBudget, tick } from "./tick.ts";
import { probeFunctionRun } from "../shared/tick/topology.ts";
import { httpFunction, type PlatformContext, type Route } from "./http/handler.ts";
import { json } from "./http/respond.ts";
import { ADMIN_RATE_LIMIT } from "./http/rate-limit.ts";

/**
 * One probe in its own function: the owner's design card (a function per stage, the tick as the
 * fan-in), on when SENTINEL_TOPOLOGY=per-probe. Three guards keep it from being a way in:
 * - with the default topology it answers 404 at once, touching neither the store nor Beacon, and no
 *   schedule fires it (its schedule lives only in netlify.toml's commented per-probe block): zero
 *   invocations a month;
 * - a request that is not the scheduler's (Netlify's scheduler marks its own with `x-nf-event:
 *   schedule`) needs the admin token, as every admin route does (lockout, rate limit);
 * - whoever calls, it runs its probe only when the probe's slot is due and not yet served, so no call
 *   adds a run to Beacon's load: the most a call can do is move a run that was owed anyway.
 */
export function scheduledProbe(id: string, runtime: () => Runtime = sharedRuntime) {
  if (!findProbe(id)) throw new Error(`no probe "${id}"`);
  const viaHttp = httpFunction(probeFunctionRoute(id), runtime);
  return async (request: Request, context?: PlatformContext): Promise<Response> => {
    let rt: Runtime;
    try {
      rt = runtime();
    } catch (error) {
      return configFailure(error);
    }
    if (rt.config.topology !== "per-probe") {
      if (request.headers.get("x-nf-event") === "schedule") rt.log.warn("a probe function is scheduled, but SENTINEL_TOPOLOGY is not per-probe: it does nothing (comment netlify.toml's per-probe block out again, or set the topology)", { probe: id });
      return json(404, { error: "topology_off", message: `SENTINEL_TOPOLOGY is "${rt.config.topology}": the tick runs ${id}; this function runs only with SENTINEL_TOPOLOGY=per-probe` });
    }
    if (request.headers.get("x-nf-event") !== "schedule") return viaHttp(request, context);
    return answer(rt, id, await runOwnProbe(rt, id));
  };
}

/**
 * The probe's own tick: only this probe, if due, judged and decided with the shared memory and written
 * under the lock (waiting for it: the functions that fire in the same minute take turns); what it
 * decides is queued for the tick to send, so one send path remains and this function keeps no time for it.
 */
export function runOwnProbe(rt: Runtime, id: string): Promise<TickReport> {
  return tick(rt, probeFunctionRun(id, runBudget(rt)));
}

/** The same run for a caller with the admin token (POST, no body needed). */
function probeFunctionRoute(id: string): Route {
  return {
    name: `probe-${id}`, methods: ["POST"], access: "admin", rateLimit: ADMIN_RATE_LIMIT,
    handle: async ({ rt }) => answer(rt, id, await runOwnProbe(rt, id)),
  };
}

function answer(rt: Runtime, id: string, report: TickReport): Response {
  rt.log.info("probe function finished", {
    probe: id, tickId: report.tickId, runningTick: report.runningTick, ran: report.results.map((r) => `${r.probe}:${r.status}`), skipped: report.skipped, lost: report.lost, pending: report.pending,
  });
  // Another run held the lock past the wait: the probe's slot stays due, and the tick's missing-results alert watches it.
  if (report.skipReason === "locked") rt.log.warn("probe function gave up waiting for the store's lock; the probe stays due", { probe: id, runningTick: report.runningTick ?? null });
  const { status: _status, ...rest } = report;
  return Response.json(redactDeep(rest, rt.redact));
}
