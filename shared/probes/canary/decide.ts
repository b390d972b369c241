import { budgetOf, deadlineOf, missBudgetOf, regressionsOf, stagesOf, type CanarySettings, type CanaryStage } from "./settings.ts";
import { lateCause, missedCause } from "./causes.ts";
import type { Facts } from "./facts.ts";
import type { Observation } from "./observe.ts";
import type { InFlight, Verdict } from "./state.ts";

/** The stages followed after the submit, on the canary's path. */
const followed = (c: Pick<InFlight, "path">) => stagesOf(c.path).filter((s) => s !== "accepted");
const name = (stage: CanaryStage) => `stage:${stage}`;
const round = (n: number) => Math.round(n * 10) / 10;
/**
 * Seconds after a job's last status write past which a `completed` job without an execution row is
 * called: the portal path's row inserts run in goroutines of their own beside that write (they
 * landed within a second on the real runner).
 */
const ROWLESS_GRACE_S = 10;

/**
 * Advances the canary with what this invocation saw. A stage is decided once: it happened (pass, or
 * fail when Beacon's own timestamps say it was late) or its budget passed without it (fail, with the
 * likely cause; only the first such stage fails, the ones after it are held behind it). A stage that
 * was missed and happens later keeps its failure and gains the time it happened. Pure.
 */
export function advance(c: InFlight, facts: Facts, obs: Observation, nowS: number, s: CanarySettings): { canary: InFlight; settled: boolean } {
  const decided: Record<string, Verdict> = { ...c.decided };
  const missed = (stage: CanaryStage) => decided[name(stage)]?.status === "fail" && decided[name(stage)]?.at === null;
  const FOLLOWED = followed(c);
  FOLLOWED.forEach((stage, i) => {
    const prev = decided[name(stage)];
    const r = facts.reached[stage];
    const budget = budgetOf(stage, s);
    const missBudget = missBudgetOf(stage, s, c.path);
    if (prev && !missed(stage)) return;
    if (r && r !== "hidden") {
      if (prev) decided[name(stage)] = { ...prev, at: round(r.at), exact: r.exact, message: `${prev.message}; then happened ${r.exact ? "at" : "by"} ${round(r.at)} s` };
      else if (r.exact && r.at > budget) decided[name(stage)] = { status: "fail", at: round(r.at), exact: true, message: lateCause(stage, r.at, budget), evidence: [`job ${c.id}`] };
      else decided[name(stage)] = { status: "pass", at: round(r.at), exact: r.exact, message: r.exact ? `at ${round(r.at)} s` : `by ${round(r.at)} s (first seen then)`, evidence: [] };
      return;
    }
    if (r === "hidden") {
      const later = FOLLOWED.slice(i + 1).some((next) => typeof facts.reached[next] === "object");
      if (later) decided[name(stage)] = { status: "pass", at: null, exact: false, message: "not observable here; inferred from the later stages", evidence: [] };
      return;
    }
    // Known broken before the budget runs out: a failed job, a receipt that breaks the contract.
    // A job that finished with no execution row will not gain one: the runner lost its rows (portal path) or cannot store them.
    const rowless = (stage === "started" || stage === "completed") && facts.status === "completed" && facts.db?.executions === 0 && (facts.db.sinceUpdateS ?? 0) >= ROWLESS_GRACE_S;
    const already = (stage === "completed" && facts.status === "failed") || (stage === "receipt" && (facts.receipts?.problems.length ?? 0) > 0) || rowless;
    if (prev || FOLLOWED.slice(0, i).some(missed) || (nowS <= missBudget && !already)) return;
    const cause = missedCause(stage, c.id, facts, obs, nowS, c.path);
    decided[name(stage)] = { status: "fail", at: null, exact: false, message: cause.message, evidence: cause.evidence };
  });
  judgeRegressions(c, decided, facts, obs, nowS, s);
  const allDecided = FOLLOWED.every((stage) => decided[name(stage)] !== undefined);
  return { canary: { ...c, decided }, settled: allDecided || facts.status === "failed" || nowS > deadlineOf(s) };
}

/** The seed plan's regression checks: out of `created` in time, `id` populated, every question answered. */
function judgeRegressions(c: InFlight, decided: Record<string, Verdict>, facts: Facts, obs: Observation, nowS: number, s: CanarySettings): void {
  const limit = s.leftCreatedSeconds;
  const left = facts.reached.processing;
  // The portal path writes its jobs `queued`, never `created`: the seed's check is the queue path's.
  if (c.path === "queue" && !decided["regression:left-created"]) {
    if (typeof left === "object") {
      const late = left.exact && left.at > limit;
      decided["regression:left-created"] = { status: late ? "fail" : "pass", at: round(left.at), exact: left.exact,
        message: late ? `left created only after ${round(left.at)} s (jobs must not sit in created for ${limit} s)` : `left created ${left.exact ? "at" : "by"} ${round(left.at)} s`, evidence: late ? [`job ${c.id}`] : [] };
    } else if (facts.status === "created" && nowS > limit) {
      decided["regression:left-created"] = { status: "fail", at: null, exact: false, message: `${Math.round(nowS)} s in created (jobs must not sit in created for ${limit} s)`, evidence: [`job ${c.id}`] };
    }
  }
  if (!decided["regression:id-populated"] && facts.detailsId !== undefined) {
    const ok = facts.detailsId === c.id && c.answeredId === c.id;
    const message = ok ? `job.id is the jobspec id ${c.id}`
      : c.answeredId !== c.id ? `the submit answered id "${c.answeredId}" for jobspec_id "${c.id}" (the empty-id incident)`
        : `the job details carry id "${facts.detailsId}" for jobspec_id "${c.id}" (the empty-id incident)`;
    decided["regression:id-populated"] = { status: ok ? "pass" : "fail", at: null, exact: false, message, evidence: ok ? [] : [`job ${c.id}`] };
  }
  if (!decided["regression:both-apis"]) {
    const v = bothApis(c, obs);
    if (v) decided["regression:both-apis"] = v;
  }
  if (!decided["regression:questions-answered"] && facts.receipts) {
    const missing = facts.receipts.answered.includes(s.question) ? [] : [`question ${s.question} has no answer`];
    const problems = [...missing, ...facts.receipts.problems];
    decided["regression:questions-answered"] = problems.length
      ? { status: "fail", at: null, exact: false, message: `not every question answered with its text: ${problems[0]}`, evidence: [`job ${c.id}`, ...problems] }
      : { status: "pass", at: null, exact: false, message: `${s.question} answered with its question text`, evidence: [] };
  }
}

/**
 * The seed asks for both APIs: with a portal configured the canary was submitted through its proxy,
 * and the job must read back through the portal as through the runner, carrying its jobspec id.
 * Decided on the first observation where both answered (or the portal failed); without a portal, at once.
 */
function bothApis(c: InFlight, obs: Observation): Verdict | undefined {
  const portal = obs.portal;
  if (!portal) return { status: "pass", at: null, exact: false, message: "BEACON_PORTAL_URL is not set: submitted and read through the runner API only", evidence: [] };
  if (!portal.ok) {
    if (portal.failure === "unreachable" && !obs.api.ok) return undefined; // both unreachable: the stages say so
    return { status: "fail", at: null, exact: false, message: `the portal does not serve the job: ${portal.message}`, evidence: [`job ${c.id}`, portal.message] };
  }
  if (!obs.api.ok) return undefined;
  const viaPortal = portal.value.job.id ?? "";
  if (viaPortal !== c.id) {
    return { status: "fail", at: null, exact: false, message: `the portal serves job.id "${viaPortal}" for jobspec_id "${c.id}"`, evidence: [`job ${c.id}`, portal.shown] };
  }
  return { status: "pass", at: null, exact: false, message: `submitted through the portal; ${portal.shown} and the runner both serve ${c.id}`, evidence: [] };
}

/** What a check still undecided when the canary settles is recorded as. */
export function settleUndecided(c: InFlight, facts: Facts | undefined): Record<string, Verdict> {
  const decided = { ...c.decided };
  const held = stagesOf(c.path).find((stage) => decided[name(stage)]?.status === "fail" && decided[name(stage)]?.at === null);
  for (const stage of followed(c)) {
    if (decided[name(stage)]) continue;
    const hidden = facts?.reached[stage] === "hidden";
    const message = held ? `not reached: the canary was held at ${held}` : hidden ? `not observable: ${facts?.blind[0] ?? "no source"}` : "not reached";
    decided[name(stage)] = { status: "error", at: null, exact: false, message, evidence: [] };
  }
  for (const check of regressionsOf(c.path).filter((r) => r !== "regression:both-apis")) {
    decided[check] ??= { status: "error", at: null, exact: false, message: "not judged: the canary did not get that far", evidence: [] };
  }
  return decided;
}
