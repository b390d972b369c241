import { z } from "zod";
import { PROBE_IDS } from "../shared/probes/registry.ts";
import { ConfigError, collectSecrets } from "../shared/config/index.ts";
import { createRedactor, redactDeep } from "../shared/redact.ts";
import { parseJson } from "../shared/http.ts";
import { createRuntime, type Runtime } from "./runtime.ts";
import { scheduledRun, tick } from "./tick.ts";

let runtime: Runtime | undefined;

/** The environment as the Netlify runtime exposes it (process.env when run outside Netlify). */
export function platformEnv(): Record<string, string | undefined> {
  const netlify = (globalThis as { Netlify?: { env: { toObject(): Record<string, string> } } }).Netlify;
  return netlify ? { ...process.env, ...netlify.env.toObject() } : process.env;
}

/** Built on first use and kept for the life of the function instance (one cold start). */
export function sharedRuntime(): Runtime {
  runtime ??= createRuntime(platformEnv());
  return runtime;
}

/** Runs `handle` with the shared runtime; a configuration problem becomes a 500 listing every problem. */
export function withRuntime(handle: (rt: Runtime, request: Request) => Promise<Response>) {
  return async (request: Request): Promise<Response> => {
    let rt: Runtime;
    try {
      rt = sharedRuntime();
    } catch (error) {
      return configFailure(error);
    }
    return handle(rt, request);
  };
}

export function configFailure(error: unknown): Response {
  if (!(error instanceof ConfigError)) throw error;
  const redact = createRedactor(collectSecrets(platformEnv()));
  console.error(redact(error.message));
  return Response.json({ error: "invalid configuration", problems: error.problems.map(redact) }, { status: 500 });
}

/**
 * A local invocation may name probes to run now (`{"probes": ["health"]}`); Netlify's scheduler
 * sends only `{"next_run": ...}`, which runs whatever is due.
 */
const TickPayload = z.object({ probes: z.array(z.enum(PROBE_IDS as [string, ...string[]])).min(1).optional() });

/** The scheduled tick. Its answer is the tick's report (readable from the local runtime and `functions:invoke`). */
export function scheduledTick() {
  return withRuntime(async (rt, request) => {
    const body = parseJson(await request.text().catch(() => ""));
    const payload = TickPayload.safeParse(body.ok ? body.value : {});
    if (!payload.success) {
      return Response.json({ error: "bad payload", problems: payload.error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`), known: PROBE_IDS }, { status: 400 });
    }
    // The scheduler's own invocation pings the heartbeat; a local run of named probes does not.
    const report = payload.data.probes ? await tick(rt, { write: true, probes: payload.data.probes, lockWaitMs: 10_000 }) : await scheduledRun(rt);
    rt.log.info("tick finished", {
      ran: report.results.map((r) => `${r.probe}:${r.status}`), skipped: report.skipped, lost: report.lost,
      notifications: report.notifications.length, delivered: report.delivered, pending: report.pending,
    });
    const { status: _status, ...rest } = report;
    return Response.json(redactDeep(rest, rt.redact));
  });
}
