import { findProbe } from "../shared/probes/registry.ts";
import { runProbe } from "../shared/runner.ts";
import { ConfigError, collectSecrets } from "../shared/config/index.ts";
import { createRedactor, redactDeep } from "../shared/redact.ts";
import { createRuntime, type Runtime } from "./runtime.ts";
import { evaluate } from "./fanin.ts";

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

/**
 * A scheduled probe function: Netlify POSTs `{"next_run": ...}` on the schedule. The answer is the
 * result document, which also makes the local runtime and `functions:invoke` readable.
 */
export function scheduledProbe(id: string) {
  const probe = findProbe(id);
  if (!probe) throw new Error(`unknown probe "${id}"`);
  return withRuntime(async (rt) => {
    const result = await runProbe(probe, { deps: rt.deps, settings: rt.config.settings, targets: rt.targets, store: rt.store, redact: rt.redact });
    rt.log.info("probe finished", { probe: id, status: result.status, durationMs: result.durationMs });
    return Response.json(result);
  });
}

/** Runs `handle` with the shared runtime; a configuration problem becomes a 500 listing every problem. */
export function withRuntime(handle: (rt: Runtime) => Promise<Response>) {
  return async (_request: Request): Promise<Response> => {
    let rt: Runtime;
    try {
      rt = sharedRuntime();
    } catch (error) {
      return configFailure(error);
    }
    return handle(rt);
  };
}

export function configFailure(error: unknown): Response {
  if (!(error instanceof ConfigError)) throw error;
  const redact = createRedactor(collectSecrets(platformEnv()));
  console.error(redact(error.message));
  return Response.json({ error: "invalid configuration", problems: error.problems.map(redact) }, { status: 500 });
}

/** The scheduled fan-in: evaluate and notify. Its answer is the evaluation report. */
export function scheduledFanIn() {
  return withRuntime(async (rt) => {
    const report = await evaluate(rt, { notify: true });
    rt.log.info("fan-in finished", { consumed: report.consumed, notifications: report.notifications.length, delivered: report.delivered, pending: report.pending, skipped: report.skipped });
    return Response.json(redactDeep(report, rt.redact));
  });
}
