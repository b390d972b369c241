import { ProbeResult, checkDecided, worstStatus, type Check } from "./result.ts";
import { redactDeep, type Redactor } from "./redact.ts";
import type { AnyProbe, ProbeDeps, ProbeOutput, ProbeTargets } from "./probes/types.ts";
import type { BeaconSettings } from "./beacon/settings.ts";
import { countingFetch } from "./beacon/own-requests.ts";

/** The parts of SENTINEL_SETTINGS a probe run reads: its own `probes.<id>`, and Beacon's names. */
export interface RunSettings {
  probes: Record<string, { timeoutMs: number }>;
  beacon: BeaconSettings;
}

export interface RunOptions {
  deps: ProbeDeps;
  settings: RunSettings;
  targets: ProbeTargets;
  redact: Redactor;
  /** What this probe kept on its previous run (stateful probes), from the tick's memory. */
  previousState?: unknown;
  /** A tighter budget than the probe's own timeoutMs (the tick's remaining time). */
  timeoutMs?: number;
  /** A run asked for by name (`beacon-sentinel run`, the API): every check runs, whatever its own cadence. */
  manual?: boolean;
}

export interface Measurement {
  result: ProbeResult;
  /** State to keep for the next run (stateful probes); undefined when the probe crashed or keeps none. */
  state: unknown;
}

/**
 * Runs one probe the way every probe is run: with its time budget, timing, exceptions turned into an
 * `error` result, and secrets redacted. It never writes: the tick records what it returns.
 */
export async function measure(probe: AnyProbe, options: RunOptions): Promise<Measurement> {
  // Every request a probe makes to Beacon is recorded, so the traffic probe can leave ours out of users' SLIs.
  const { apiUrl, portalUrl } = options.targets;
  const deps = { ...options.deps, fetch: countingFetch(options.deps.fetch, { apiUrl, portalUrl, routes: options.settings.beacon.routes }) };
  const own = (options.settings.probes as Record<string, { timeoutMs: number }>)[probe.id];
  if (!own) throw new Error(`no settings for probe ${probe.id}`);
  const settings = { ...own, timeoutMs: Math.max(1, Math.min(own.timeoutMs, options.timeoutMs ?? Infinity)) };
  const started = deps.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new ProbeTimeout(settings.timeoutMs));
    }, settings.timeoutMs);
  });

  // When each check was decided, in ms into the run, by name (a probe may copy a check to amend it);
  // the first one built counts (a late answer after its check timed out is dropped by the probe).
  const decided = new Map<string, number>();
  const stamp = (c: Check) => void (decided.has(c.name) || decided.set(c.name, Math.max(0, deps.now().getTime() - started.getTime())));
  let checks: Check[] = [];
  let state: unknown;
  let events: ProbeOutput["events"];
  let error: string | undefined;
  try {
    const output = await Promise.race([
      checkDecided.run(stamp, () => probe.run({ deps, settings: own, beacon: options.settings.beacon, targets: options.targets, signal: controller.signal, previousState: probe.stateful ? options.previousState : undefined, ...(options.manual ? { manual: true } : {}) })),
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
  CHECK_MS.set(result, result.checks.map((c) => Math.min(decided.get(c.name) ?? result.durationMs, result.durationMs)));
  return { result, state: error ? undefined : state };
}

/**
 * How far into its probe's run each check of a result was decided, in ms, in the order of
 * `result.checks`: checks measured in parallel (health's endpoints) each have their own, checks judged
 * together from one set of reads share one. Kept beside the result, not in it: the stored document does
 * not grow. Undefined for a result this process did not measure (one read from the store).
 */
export function checkTimings(result: ProbeResult): readonly number[] | undefined {
  return CHECK_MS.get(result);
}

const CHECK_MS = new WeakMap<ProbeResult, number[]>();

/** `measure` for callers that only want the result (a dry run keeps no state). */
export async function runProbe(probe: AnyProbe, options: RunOptions): Promise<ProbeResult> {
  return (await measure(probe, options)).result;
}

class ProbeTimeout extends Error {
  constructor(ms: number) {
    super(`probe did not finish within ${ms} ms`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
