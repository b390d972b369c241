import { recordRun, storedState } from "./sentinel.ts";
import { canaryProbe } from "../../shared/probes/canary/index.ts";
import { loadState, type CanaryState } from "../../shared/probes/canary/state.ts";
import { runProbe } from "../../shared/runner.ts";
import type { Check, ProbeResult } from "../../shared/result.ts";
import type { Runtime } from "../../netlify/runtime.ts";
import type { Harness } from "../sandbox/testing.ts";
import type { Sandbox } from "../sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./sentinel.ts";

/** One canary "deployment" in a test: its own store prefix, a fake clock, and invocations of the real runner. */
export interface CanaryRig {
  rt: Runtime;
  /** The sentinel's key prefix of this rig (claims, state). */
  prefix: string;
  advance(seconds: number): void;
  invoke(): Promise<{ result: ProbeResult; by: Record<string, Check> }>;
  state(): Promise<CanaryState>;
  close(): Promise<void>;
}

let rigs = 0;

/**
 * `env` rewrites the sentinel's environment, e.g. to drop Beacon's database. `portalUrl` is handed to
 * the canary as its portal target (what BEACON_PORTAL_URL becomes once the runtime maps it).
 */
export function canaryRig(h: Harness, sandbox: Sandbox, key: string | undefined, settings: Record<string, unknown> = {}, env = (e: Record<string, string>) => e, portalUrl?: string): CanaryRig {
  const clock = { t: Date.now() };
  const prefix = `${h.prefix}c${++rigs}:`;
  const extra: Record<string, string> = { SENTINEL_KEY_PREFIX: prefix, ...(key ? { CANARY_SIGNING_KEY: key } : {}) };
  const rt = sentinelRuntime(env(sentinelEnv(h, sandbox, { probes: { canary: settings } }, extra)), { now: () => new Date(clock.t) });
  return {
    rt,
    prefix,
    advance: (seconds) => void (clock.t += seconds * 1000),
    async invoke() {
      if (portalUrl) rt.targets.portalUrl = portalUrl;
      const result = await recordRun(rt, "canary");
      return { result, by: Object.fromEntries(result.checks.map((c) => [c.name, c])) };
    },
    async state() {
      return loadState((await storedState(rt)).probes.canary?.state);
    },
    close: () => rt.close(),
  };
}

/** Check name → status, for compact assertions. */
export function statuses(by: Record<string, Check>): Record<string, string> {
  return Object.fromEntries(Object.entries(by).map(([n, c]) => [n, c.status]));
}
