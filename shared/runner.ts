import { ProbeResult, worstStatus, type Check } from "./result.ts";
import { redactDeep, type Redactor } from "./redact.ts";
import type { ResultStore } from "./store/results.ts";
import type { AnyProbe, ProbeDeps, ProbeOutput, ProbeTargets } from "./probes/types.ts";
import type { Settings } from "./config/index.ts";

export interface RunOptions {
  deps: ProbeDeps;
  settings: Settings;
  targets: ProbeTargets;
  /** Absent for dry runs: the result is returned and nothing is written. */
  store?: ResultStore;
  redact: Redactor;
}

/**
 * Runs one probe the way every probe is run: with its time budget, timing, exceptions turned into an
 * `error` result, secrets redacted, and the result written in one round trip. A probe only measures.
 */
export async function runProbe(probe: AnyProbe, options: RunOptions): Promise<ProbeResult> {
  const { deps, store } = options;
  const settings = (options.settings.probes as Record<string, { timeoutMs: number }>)[probe.id];
  if (!settings) throw new Error(`no settings for probe ${probe.id}`);
  const started = deps.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new ProbeTimeout(settings.timeoutMs));
    }, settings.timeoutMs);
  });

  let checks: Check[] = [];
  let state: unknown;
  let events: ProbeOutput["events"];
  let error: string | undefined;
  try {
    const previousState = probe.stateful && store ? await store.loadState(probe.id) : undefined;
    const output = await Promise.race([
      probe.run({ deps, settings, beacon: options.settings.beacon, targets: options.targets, signal: controller.signal, previousState }),
      deadline,
    ]);
    checks = output.checks;
    state = output.state;
    events = output.events;
  } catch (caught) {
    error = caught instanceof ProbeTimeout ? caught.message : `probe crashed: ${describe(caught)}`;
  } finally {
    clearTimeout(timer);
  }

  const result = redactDeep(
    ProbeResult.parse({
      version: 1,
      probe: probe.id,
      status: error ? "error" : worstStatus(checks.map((c) => c.status)),
      startedAt: started.toISOString(),
      durationMs: Math.max(0, deps.now().getTime() - started.getTime()),
      checks,
      ...(error ? { error } : {}),
      ...(events && !error ? { events } : {}),
    }),
    options.redact,
  );
  if (store) {
    try {
      await store.record(result, state);
    } catch (cause) {
      throw new StoreWriteError(result, cause);
    }
  }
  return result;
}

/** The result could not be written even after retries; it travels with the error so it is not lost. */
export class StoreWriteError extends Error {
  constructor(readonly result: ProbeResult, cause: unknown) {
    super(`result not stored: ${describe(cause)}`, { cause });
    this.name = "StoreWriteError";
  }
}

class ProbeTimeout extends Error {
  constructor(ms: number) {
    super(`probe did not finish within ${ms} ms`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
