import { check, type Check, type EventCounts } from "../../result.ts";
import { budgetOf, CANARY_STAGES, REGRESSION_CHECKS, regressionsOf, stagesOf, type CanarySettings } from "./settings.ts";
import type { CanaryState, Verdict } from "./state.ts";
import { inFlightEvidence } from "./definition.ts";

export { inFlightEvidence, inFlightOf } from "./definition.ts";

const STAGE_CHECKS = CANARY_STAGES.map((s) => `stage:${s}` as const);

function thresholdOf(checkName: string, s: CanarySettings): string {
  if (checkName.startsWith("stage:")) return `<= ${budgetOf(checkName.slice(6) as (typeof CANARY_STAGES)[number], s)} s`;
  if (checkName === "regression:left-created") return `<= ${s.leftCreatedSeconds} s in created`;
  if (checkName === "regression:id-populated") return "job.id == jobspec_id";
  if (checkName === "regression:both-apis") return "the portal and the runner serve the job";
  return "every question answered with its text";
}

function fromVerdict(checkName: string, v: Verdict, s: CanarySettings, prefix: string): Check {
  return check({ name: checkName, status: v.status, observed: v.at, threshold: thresholdOf(checkName, s), message: `${prefix}${v.message}`, evidence: v.evidence });
}

/**
 * The canary's checks, always all of its path's in stage order (the status page draws the `stage:` ones as a
 * timeline; observed = seconds since submission): the canary in flight's path, else the configured one. Each reports the most recent decided outcome: the
 * canary in flight where it has decided, else the previous canary's verdict, so a failed canary keeps
 * failing its check until a later canary passes that stage (N-of-M alerting needs that), and a stage
 * still pending never flips a known failure to green.
 */
export function buildChecks(state: CanaryState, s: CanarySettings, nowS: number | undefined): Check[] {
  const c = state.inFlight;
  const path = c?.path ?? s.path;
  const held = c && CANARY_STAGES.find((st) => c.decided[`stage:${st}`]?.status === "fail" && c.decided[`stage:${st}`]?.at === null);
  return [...stagesOf(path).map((st) => `stage:${st}`), ...regressionsOf(path)].flatMap((name): Check[] => {
    const own = c?.decided[name];
    if (own) return [fromVerdict(name, own, s, "")];
    const before = c && name.startsWith("stage:") && held && CANARY_STAGES.indexOf(held) < CANARY_STAGES.indexOf(name.slice(6) as never);
    if (c && before) {
      return [check({ name, status: "error", observed: null, threshold: thresholdOf(name, s), message: `not reached yet: canary ${c.id} is held at ${held}` })];
    }
    const previous = state.verdicts[name];
    if (previous) return [fromVerdict(name, previous, s, c ? `pending for ${c.id}; previous canary ${previous.canary}: ` : `canary ${previous.canary}: `)];
    if (!c) return [];
    return [check({ name, status: "pass", observed: null, threshold: thresholdOf(name, s), message: `pending: ${Math.round(nowS ?? 0)} s since submission of ${c.id}` })];
  });
}

/**
 * SLI events of a settled canary, counted once: `jobs` (it completed in time) and `start-latency` (its
 * first execution started within `startLatencySeconds`, timed by Beacon's own timestamps; a canary that
 * never started is a bad event, and without Beacon's database there is no exact start to count).
 */
export function eventsOf(verdicts: Record<string, Verdict>, s: CanarySettings, exactTimes: boolean): Record<string, EventCounts> {
  const started = verdicts["stage:started"];
  const completed = verdicts["stage:completed"];
  const events: Record<string, EventCounts> = { jobs: { good: completed?.status === "pass" ? 1 : 0, total: 1 } };
  // Without Beacon's database the start is only seen once the job completed: too coarse to count.
  if (!exactTimes) return events;
  const good = started?.exact === true && started.at !== null && started.at <= s.startLatencySeconds;
  events["start-latency"] = { good: good ? 1 : 0, total: 1 };
  return events;
}

/** One line about a settled canary: "passed every stage in 1.2 s" or "failed at outbox: …". */
export function summaryOf(verdicts: Record<string, Verdict>): { passed: boolean; summary: string } {
  const failed = [...STAGE_CHECKS, ...REGRESSION_CHECKS].find((n) => verdicts[n]?.status === "fail");
  if (failed) return { passed: false, summary: `failed ${failed}: ${verdicts[failed]!.message}` };
  const done = verdicts["stage:receipt"]?.at;
  return { passed: true, summary: `passed every stage${done != null ? ` (receipt by ${done} s)` : ""}` };
}

