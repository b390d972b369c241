import { check, type Check } from "../../result.ts";
import { CANARY, CANARY_ID_PREFIX } from "./definition.ts";
import type { Probe, ProbeContext, ProbeOutput } from "../types.ts";
import { advance, settleUndecided } from "./decide.ts";
import { factsOf } from "./facts.ts";
import { observe } from "./observe.ts";
import { buildChecks, eventsOf, inFlightEvidence, summaryOf } from "./report.ts";
import { CanarySettings, deadlineOf } from "./settings.ts";
import { crossRegionRequest, newJobspecId, signedJobSpec } from "./spec.ts";
import { elapsedS, loadState, type CanaryState, type Verdict } from "./state.ts";
import { submitJob } from "./submit.ts";

type Ctx = ProbeContext<CanarySettings>;

/** The claim that makes "at most one canary in flight" hold across concurrent invocations. */
const SLOT = "canary";

const summary = (status: Check["status"], message: string, observed: number | null = null, evidence: string[] = []): Check =>
  check({ name: "canary", status, observed, threshold: null, message, evidence });

/**
 * The canary: a real, signed job followed through every stage of the pipeline (contract sheet §2-§6).
 *
 * Schedule: every minute, not every 15. Following a job stage by stage needs looks seconds-to-a-minute
 * apart, and no invocation may wait (Netlify's 30 s limit). So each run does one of three things:
 * advance the canary in flight (one SQL statement, one job read, one Redis pipeline while it is in
 * `created`), or, when none is in flight and the last submission is `intervalMinutes` (15) old, submit a
 * new one, or report the last verdicts. The fan-in's "probe missing" watch thus runs on one minute too.
 *
 * At most one canary is in flight: a submission first takes the `canary` claim (SET NX, expiring after
 * the canary's deadline plus an hour), and settling releases it with a compare-and-delete; only the
 * invocation whose release succeeds emits the canary's SLI events, so they are counted once.
 */
export const canaryProbe: Probe<CanarySettings> & typeof CANARY = {
  ...CANARY,
  async run(ctx) {
    const key = ctx.targets.canarySigningKey;
    if (!key) {
      return { checks: [summary("pass", "disabled: CANARY_SIGNING_KEY is not set (generate a key with `npx beacon-sentinel canary-key` and register its public key in Beacon's TRUSTED_KEYS_JSON)")] };
    }
    if (!ctx.targets.apiUrl) return { checks: [summary("error", "not run: BEACON_API_URL is not set")] };
    if (!ctx.deps.claims) return { checks: [summary("error", "not run: the canary needs the sentinel's store to follow its job across runs (a dry run has none)")] };
    const state = loadState(ctx.previousState);
    const now = ctx.deps.now();
    if (state.inFlight) return follow(ctx, state, now, ctx.targets.apiUrl);
    const last = state.lastSubmittedAt ? Date.parse(state.lastSubmittedAt) : undefined;
    const dueInMs = submissionDueInMs(last, now.getTime(), ctx.settings.intervalMinutes, ctx.beacon.database.everyMinutes);
    if (dueInMs > 0) {
      const told = state.last ? `last canary ${state.last.id} ${state.last.summary}` : "no canary settled yet";
      return { checks: [summary("pass", `idle: ${told}; next in ${Math.ceil(dueInMs / 60_000)} min`), ...buildChecks(state, ctx.settings, undefined)] };
    }
    return submit(ctx, state, now, key, ctx.targets.apiUrl);
  },
};

/**
 * Milliseconds until the next submission is due: `intervalMinutes` after the last. Under
 * `beacon.database.everyMinutes` only on those minutes (UTC, from the epoch), counted in whole minutes so
 * that a tick a few hundred milliseconds early on its minute still submits: the canary's statements then
 * fall on the minutes the other probes' do, and Neon sleeps between them.
 */
export function submissionDueInMs(last: number | undefined, now: number, intervalMinutes: number, everyMinutes: number | undefined): number {
  if (everyMinutes === undefined) return last === undefined ? 0 : last + intervalMinutes * 60_000 - now;
  const minute = Math.floor(now / 60_000);
  const earliest = last === undefined ? minute : Math.floor(last / 60_000) + intervalMinutes;
  const due = Math.ceil(Math.max(minute, earliest) / everyMinutes) * everyMinutes;
  return due === minute ? 0 : due * 60_000 - now;
}

async function submit(ctx: Ctx, state: CanaryState, now: Date, key: string, apiUrl: string): Promise<ProbeOutput> {
  const s = ctx.settings;
  const id = newJobspecId(CANARY_ID_PREFIX, now);
  if (!(await ctx.deps.claims!.claim(SLOT, id, (deadlineOf(s) + 3600) * 1000))) {
    // Another invocation is submitting or following a canary: it writes the state; this one must not.
    return { checks: [summary("pass", "another invocation holds the canary slot: at most one canary is in flight"), ...buildChecks(state, s, undefined)] };
  }
  const path = s.path;
  const spec = signedJobSpec(id, now, s, "canary", key, path);
  // The portal's route by default (what users' jobs take), the queue route when `path` is `queue`; through
  // the portal's /api/v1 proxy when one is configured.
  const portal = ctx.targets.portalUrl;
  const route = path === "cross-region" ? ctx.beacon.routes.crossRegion : ctx.beacon.routes.jobs;
  const body = path === "cross-region" ? crossRegionRequest(spec, s) : spec;
  const outcome = await submitJob(new URL(route, portal ?? apiUrl).href, body, { fetch: ctx.deps.fetch, now: ctx.deps.now, timeoutMs: s.requestTimeoutMs, signal: ctx.signal, route: path });
  const acceptedS = Math.round(outcome.durationMs) / 1000;
  if (!outcome.accepted) {
    await ctx.deps.claims!.release(SLOT, id);
    const refused: Verdict = { status: "fail", at: null, exact: false, message: `refused on POST ${route}: ${outcome.cause}`, evidence: [`job ${id}`, `public key ${String(spec["public_key"])}`] };
    const canary = { id, path, submittedAt: now.toISOString(), acceptedS, answeredId: "", decided: { "stage:accepted": refused } };
    const next = settled({ ...state, lastSubmittedAt: now.toISOString() }, canary, settleUndecided(canary, undefined), now);
    return { checks: [summary("pass", `canary ${id} was not accepted`), ...buildChecks(next, s, undefined)], state: next };
  }
  const via = portal ? " through the portal" : "";
  // The cross-region route checks the struct's signature only (path A): accepted there is accepted on the primary path.
  const signature = path === "cross-region" ? ", signature verified on the struct (path A, the route's only check)" : "";
  const accepted: Verdict = { status: "pass", at: acceptedS, exact: true, message: `HTTP 202 on POST ${route}${via} in ${outcome.durationMs} ms, id "${outcome.id}"${signature}`, evidence: [] };
  const next: CanaryState = {
    ...state, lastSubmittedAt: now.toISOString(),
    inFlight: { id, path, submittedAt: now.toISOString(), acceptedS, answeredId: outcome.id, decided: { "stage:accepted": accepted } },
  };
  return { checks: [summary("pass", `submitted canary ${id}; later runs follow it`, 0, [inFlightEvidence(id, now.toISOString())]), ...buildChecks(next, s, 0)], state: next };
}

async function follow(ctx: Ctx, state: CanaryState, now: Date, apiUrl: string): Promise<ProbeOutput> {
  const s = ctx.settings;
  const c = state.inFlight!;
  const nowS = elapsedS(c, now);
  const obs = await observe(ctx, c.id, apiUrl);
  const facts = factsOf(obs, c, nowS, s);
  const { canary, settled: done } = advance(c, facts, obs, nowS, s);
  const readFailed = facts.blind.filter((b) => !b.includes("is not set"));
  const notes = facts.blind.length ? ` (${facts.blind.join("; ")})` : "";
  const status = readFailed.length ? "error" : "pass";
  if (!done) {
    const next = { ...state, inFlight: canary };
    const reached = Object.entries(canary.decided).filter(([n, v]) => n.startsWith("stage:") && v.status === "pass").map(([n]) => n.slice(6));
    const line = `canary ${c.id} in flight for ${Math.round(nowS)} s, reached ${reached.at(-1) ?? "nothing yet"}${notes}`;
    return { checks: [summary(status, line, Math.round(nowS), [inFlightEvidence(c.id, c.submittedAt)]), ...buildChecks(next, s, nowS)], state: next };
  }
  const verdicts = settleUndecided(canary, facts);
  // Exactly one invocation releases the slot: that one counts the canary's events.
  const released = await ctx.deps.claims!.release(SLOT, c.id);
  const next = settled(state, canary, verdicts, now);
  const line = `canary ${c.id} settled after ${Math.round(nowS)} s: ${next.last!.summary}${released ? "" : " (already counted by another invocation)"}${notes}`;
  return {
    checks: [summary(status, line, Math.round(nowS)), ...buildChecks(next, s, undefined)],
    state: next,
    ...(released ? { events: eventsOf(verdicts, s, ctx.deps.sql !== undefined) } : {}),
  };
}

/** The idle state after a canary: its verdicts become the ones reported until the next canary decides. */
function settled(state: CanaryState, c: CanaryState["inFlight"] & object, verdicts: Record<string, Verdict>, now: Date): CanaryState {
  const tagged = Object.fromEntries(Object.entries(verdicts).map(([n, v]) => [n, { ...v, canary: c.id }]));
  const { passed, summary: line } = summaryOf(verdicts);
  return {
    version: 1, lastSubmittedAt: state.lastSubmittedAt ?? c.submittedAt,
    verdicts: { ...state.verdicts, ...tagged },
    last: { id: c.id, passed, settledAt: now.toISOString(), summary: line },
  };
}
