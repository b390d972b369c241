import { ConfigError, collectSecrets } from "../shared/config/index.ts";
import { createRedactor } from "../shared/redact.ts";
import { createRuntime, type Runtime } from "./runtime.ts";

/**
 * The platform glue every function shares: the environment as Netlify exposes it, the runtime built
 * once per cold start, and a configuration problem turned into a 500. Kept apart from the tick so that
 * an HTTP function does not bundle the probes.
 */

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

