import { testServices } from "./env.ts";
import { createRuntime, type Runtime, type RuntimeOptions } from "../../netlify/runtime.ts";
import { tick } from "../../netlify/tick.ts";
import type { TickReport } from "../../shared/tick/run.ts";
import type { SentinelState } from "../../shared/tick/state.ts";
import type { ProbeResult } from "../../shared/result.ts";
import type { Harness } from "../sandbox/testing.ts";
import type { Sandbox } from "../sandbox/index.ts";

/**
 * The environment a deployed sentinel would have, pointed at a test sandbox: the same variables
 * operators set, so tests go through the real configuration path.
 */
export function sentinelEnv(h: Harness, sandbox: Sandbox, settings: Record<string, unknown> = {}, extra: Record<string, string> = {}): Record<string, string> {
  const s = testServices();
  return {
    BEACON_API_URL: sandbox.url,
    BEACON_DATABASE_URL: h.db.connectionString,
    NEON_WS_PROXY: s.postgres.wsProxy,
    BEACON_REDIS_REST_URL: s.redis.restUrl,
    BEACON_REDIS_REST_TOKEN: s.redis.restToken,
    SENTINEL_KEY_PREFIX: `${h.prefix}sentinel:`,
    SENTINEL_SETTINGS: JSON.stringify({ ...settings, beacon: { queue: { name: sandbox.queueName }, ...(settings.beacon as object) } }),
    ...extra,
  };
}

/** A runtime on that environment, with Upstash retries off so failures show at once. */
export function sentinelRuntime(env: Record<string, string>, options: RuntimeOptions = {}): Runtime {
  return createRuntime(env, { redisRetries: 0, ...options });
}

/** Runs one probe the way a scheduled tick records it: stored, judged, notified. Throws when it could not run. */
export async function recordRun(rt: Runtime, id: string): Promise<ProbeResult> {
  const report = await tick(rt, { write: true, probes: [id], lockWaitMs: 25_000 });
  const result = report.results[0];
  if (!result) throw new Error(`tick ran nothing: ${report.skipped ?? "no such probe"}`);
  return result;
}

/** An evaluation that runs no probe (what `sentinel evaluate --notify` does). */
export function evaluateNow(rt: Runtime, options: { write?: boolean } = {}): Promise<TickReport> {
  const write = options.write ?? true;
  return tick(rt, { write, probes: [], lockWaitMs: write ? 25_000 : 0 });
}

/** The latest stored result of a probe, from the status document the last tick wrote. */
export async function storedLatest(rt: Runtime, id: string): Promise<ProbeResult | null> {
  const doc = await rt.store!.readStatus();
  return doc?.probes.find((p) => p.id === id)?.latest ?? null;
}

/** The tick's stored memory. */
export async function storedState(rt: Runtime): Promise<SentinelState> {
  return (await rt.store!.peek()).state;
}

/**
 * Probe runs and evaluations as a scheduled tick does them, for tests written as "run, run, then
 * look at what was decided": each probe run is evaluated (and notified) in its own tick, and
 * `evaluate` reports every notification decided since its previous call.
 */
export function tickRecorder(rt: Runtime) {
  let decided: TickReport["notifications"] = [];
  return {
    async probe(id: string): Promise<ProbeResult> {
      const report = await tick(rt, { write: true, probes: [id], lockWaitMs: 25_000 });
      decided.push(...report.notifications);
      if (!report.results[0]) throw new Error(`tick ran nothing: ${report.skipped ?? "no such probe"}`);
      return report.results[0];
    },
    async evaluate(): Promise<TickReport> {
      const report = await tick(rt, { write: true, probes: [], lockWaitMs: 0 });
      const notifications = [...decided, ...report.notifications];
      decided = [];
      return { ...report, notifications };
    },
  };
}
