import { parseArgs } from "node:util";
import { canaryProbe } from "../../shared/probes/canary/index.ts";
import { regressionsOf, stagesOf, type CanaryPath } from "../../shared/probes/canary/settings.ts";
import { loadState, type Verdict } from "../../shared/probes/canary/state.ts";
import { measure } from "../../shared/runner.ts";
import { exitCodeFor, worstStatus } from "../../shared/result.ts";
import type { Claims } from "../../shared/store/claims.ts";
import { createRuntime } from "../runtime.ts";
import { UsageError } from "./errors.ts";
import { ConfigError } from "../../shared/config/index.ts";

/** The checks of a path, in the order they are printed: the portal path has no outbox, queue or pickup stage. */
const orderOf = (path: CanaryPath) => [...stagesOf(path).map((s) => `stage:${s}`), ...regressionsOf(path)];

/**
 * `sentinel canary --wait [--timeout S] [--poll S]`: the deploy gate. Submits one canary now and runs
 * the canary probe every `poll` seconds on it, in this process, printing each stage as it is decided;
 * it stops at the first failed check (naming the stage and its likely cause), when the canary settles,
 * or at the timeout (naming the stage it waited for). Exit 0 pass, 1 fail or timeout, 2 blind.
 * It stores nothing: the canary's in-flight slot is held in this process, so the scheduled canary
 * (its own slot in the store) is neither blocked nor disturbed.
 */
export async function canaryCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { wait: { type: "boolean", default: false }, timeout: { type: "string", default: "600" }, poll: { type: "string", default: "2" } } });
  if (!values.wait) throw new UsageError("canary needs --wait: it submits one canary and follows it (the scheduled canary runs on its own)");
  const timeoutS = Number(values.timeout);
  const pollS = Number(values.poll);
  if (!Number.isFinite(timeoutS) || timeoutS < 1 || timeoutS > 3600) throw new UsageError(`--timeout must be 1-3600 seconds, not "${values.timeout}"`);
  if (!Number.isFinite(pollS) || pollS < 0.2 || pollS > 60) throw new UsageError(`--poll must be 0.2-60 seconds, not "${values.poll}"`);

  const rt = createRuntime(process.env, { requireStore: false });
  try {
    if (!rt.targets.canarySigningKey) throw new ConfigError(["CANARY_SIGNING_KEY: required by canary --wait (generate one with: npx beacon-sentinel canary-key)"]);
    const settings = { ...rt.config.settings, probes: { ...rt.config.settings.probes, canary: { ...rt.config.settings.probes.canary, intervalMinutes: 0 } } };
    const deps = { ...rt.deps, claims: localClaims() };
    const started = rt.deps.now().getTime();
    const shown = new Set<string>();
    let state: unknown;
    let id: string | undefined;
    const out = (line: string) => process.stdout.write(`${line}\n`);
    for (;;) {
      const m = await measure(canaryProbe, { deps, settings, targets: rt.targets, redact: rt.redact, previousState: state });
      if (m.state !== undefined) state = m.state;
      const s = loadState(state);
      id ??= s.inFlight?.id ?? s.last?.id;
      if (!id) {
        const why = m.result.checks.find((c) => c.name === "canary")?.message ?? m.result.error ?? "no canary was submitted";
        out(`canary not submitted: ${why}`);
        return 2;
      }
      if (shown.size === 0) out(`canary ${id} submitted; following it (timeout ${timeoutS} s)`);
      const decided: Record<string, Verdict> = s.inFlight?.decided ?? Object.fromEntries(Object.entries(s.verdicts).filter(([, v]) => v.canary === id));
      const ORDER = orderOf(s.inFlight?.path ?? settings.probes.canary.path);
      for (const name of ORDER) {
        const v = decided[name];
        if (!v || shown.has(name)) continue;
        shown.add(name);
        out(`${v.status.padEnd(5)} ${name.padEnd(32)} ${rt.redact(v.message)}${v.evidence.length ? ` [${rt.redact(v.evidence.join(", "))}]` : ""}`);
      }
      const failed = ORDER.find((n) => decided[n]?.status === "fail");
      if (failed) {
        out(`FAILED at ${failed}: ${rt.redact(decided[failed]!.message)}`);
        return 1;
      }
      if (!s.inFlight) {
        const status = worstStatus(Object.values(decided).map((v) => v.status));
        out(`canary ${id} settled: ${status === "pass" || status === "warn" ? "the pipeline carried it to its receipt" : s.last?.summary ?? status}`);
        return exitCodeFor(status);
      }
      const elapsedS = (rt.deps.now().getTime() - started) / 1000;
      if (elapsedS >= timeoutS) {
        const waiting = ORDER.find((n) => n.startsWith("stage:") && !decided[n]) ?? "its receipt";
        out(`TIMED OUT after ${Math.round(elapsedS)} s waiting for ${waiting}`);
        // Blind all along (nothing could be read) is not a verdict on the pipeline.
        return m.result.status === "error" && shown.size <= 1 ? 2 : 1;
      }
      await new Promise((resolve) => setTimeout(resolve, pollS * 1000));
    }
  } finally {
    await rt.close();
  }
}

/** The canary's "one in flight" slot, held in this process: the gate follows its own canary only. */
function localClaims(): Claims {
  const held = new Map<string, string>();
  return {
    async claim(name, holder) {
      if (held.has(name)) return false;
      held.set(name, holder);
      return true;
    },
    async release(name, holder) {
      if (held.get(name) !== holder) return false;
      held.delete(name);
      return true;
    },
  };
}
