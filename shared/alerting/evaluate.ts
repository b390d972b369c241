import type { ProbeResult, Check } from "../result.ts";
import type { SloStatus } from "../slo/evaluate.ts";
import { RESTATEMENTS, dependenciesOf, ruleFor, type AlertingSettings } from "./settings.ts";
import { stageOfCheck } from "../probes/catalog.ts";
import { activeSilenceFor, type Silence } from "./silences.ts";
import { LOG_CAP, type AlertRecord, type AlertState } from "./state.ts";
import type { Notification } from "./notification.ts";

export interface WatchedProbe {
  id: string;
  stage: string;
  title: string;
  intervalMs: number;
}

export interface AlertInput {
  state: AlertState;
  /** Results not seen before, oldest first. */
  results: ProbeResult[];
  slos: SloStatus[];
  probes: WatchedProbe[];
  silences: Silence[];
  settings: AlertingSettings;
  now: Date;
}

/**
 * Alert evaluation, a pure function of (previous state, new results, SLO statuses, silences, now).
 * It returns the next state and the notifications to send; sending is someone else's job.
 */
export function evaluateAlerts(input: AlertInput): { state: AlertState; notifications: Notification[] } {
  const { settings, now } = input;
  const state: AlertState = structuredClone(input.state);
  state.startedAt ??= now.toISOString();
  const touched = new Set<string>();
  const stageOf = new Map(input.probes.map((p) => [p.id, p.stage]));

  for (const result of input.results) {
    const prev = state.lastSeen[result.probe];
    if (!prev || prev < result.startedAt) state.lastSeen[result.probe] = result.startedAt;
    const stage = stageOf.get(result.probe) ?? "unknown";
    const rule = ruleFor(settings, result.probe);
    const blind = result.status === "error" && (result.error !== undefined || result.checks.every((c) => c.status === "error"));
    const blindRec = record(state, `blind/${result.probe}`, { type: "blind", stage, probe: result.probe, severity: "ticket" });
    observe(blindRec, blind ? "f" : "p", rule.blindToTrigger, rule.blindToTrigger, rule.successesToResolve, result.startedAt);
    blindRec.snapshot = { ...blindRec.snapshot, title: `${result.probe} probe cannot measure`, message: result.error ?? "every check errored", observed: "error", threshold: null, evidence: [], evidenceTotal: 0 };
    touched.add(blindRec.key);
    if (blind) continue;
    const failedHere = new Set(result.checks.filter((c) => c.status === "fail").map((c) => `check/${result.probe}/${c.name}`));
    for (const c of result.checks) {
      const rec = record(state, `check/${result.probe}/${c.name}`, { type: "check", stage, probe: result.probe, check: c.name, severity: "page" });
      rec.stage = stageOfCheck(result.probe, stage, c.name); // the stage the check is about, also for records stored before
      const restated = RESTATEMENTS[rec.key];
      if (restated) rec.restates = restated.find((k) => failedHere.has(k));
      observe(rec, c.status === "fail" ? "f" : c.status === "error" ? "e" : "p", rule.failuresToTrigger, rule.window, rule.successesToResolve, result.startedAt);
      if (c.status === "fail" || !rec.firing) rec.snapshot = snapshotOf(result.probe, c, settings.nextSteps[result.probe]);
      touched.add(rec.key);
    }
  }

  for (const p of input.probes) {
    const last = Date.parse(state.lastSeen[p.id] ?? state.startedAt);
    const limit = settings.staleFactor * p.intervalMs;
    const rec = record(state, `missing/${p.id}`, { type: "missing", stage: p.stage, probe: p.id, severity: "page" });
    const missing = now.getTime() - last > limit;
    setFiring(rec, missing, now.toISOString());
    rec.snapshot = {
      title: `${p.title} probe is missing`, message: `no ${p.id} result for ${Math.round((now.getTime() - last) / 1000)} s (expected every ${Math.round(p.intervalMs / 1000)} s): the prober itself is broken or not scheduled`,
      observed: Math.round((now.getTime() - last) / 1000), threshold: `<= ${Math.round(limit / 1000)} s`, evidence: [`probe ${p.id}: last result ${state.lastSeen[p.id] ?? "never"}`], evidenceTotal: 1,
    };
  }

  for (const slo of input.slos) {
    const rec = record(state, `slo/${slo.id}`, { type: "slo", stage: "slo", slo: slo.id, severity: slo.severity ?? "ticket" });
    const escalated = slo.severity === "page" && rec.firing && rec.severity !== "page";
    setFiring(rec, slo.severity !== null, now.toISOString());
    if (slo.severity) rec.severity = slo.severity;
    if (escalated) rec.notified = false; // a ticket that became a page is announced again
    if (slo.severity || !rec.firing) rec.snapshot = sloSnapshot(slo);
  }

  return { state, notifications: decide(state, input, touched) };
}

function record(state: AlertState, key: string, init: Pick<AlertRecord, "type" | "stage" | "severity"> & Partial<AlertRecord>): AlertRecord {
  state.alerts[key] ??= { key, recent: "", passesInRow: 0, firing: false, notified: false, snapshot: { title: key, message: "", observed: null, threshold: null, evidence: [], evidenceTotal: 0 }, ...init };
  return state.alerts[key];
}

/** N-of-M to trigger, K passes in a row to resolve; `e` (blind) counts neither way. */
function observe(rec: AlertRecord, outcome: "f" | "p" | "e", trigger: number, window: number, resolve: number, at: string) {
  rec.recent = (rec.recent + outcome).slice(-window);
  if (outcome === "p") rec.passesInRow += 1;
  else if (outcome === "f") rec.passesInRow = 0;
  if (!rec.firing && [...rec.recent].filter((o) => o === "f").length >= trigger) setFiring(rec, true, at);
  else if (rec.firing && rec.passesInRow >= resolve) setFiring(rec, false, at);
}

function setFiring(rec: AlertRecord, firing: boolean, at: string) {
  if (firing && !rec.firing) Object.assign(rec, { firing: true, since: at, notified: false, passesInRow: 0 });
  // `since` stays set until decide() has announced (or logged) the resolution.
  if (!firing && rec.firing) rec.firing = false;
}

function snapshotOf(probe: string, c: Check, nextStep?: string): AlertRecord["snapshot"] {
  return { title: `${probe}: ${c.name}`, message: c.message, observed: c.observed, threshold: c.threshold, evidence: c.evidence, evidenceTotal: c.evidenceTotal, nextStep };
}

function sloSnapshot(slo: SloStatus): AlertRecord["snapshot"] {
  const burning = slo.alerts.filter((a) => a.firing);
  const worst = burning[0];
  return {
    title: `SLO ${slo.title} (${(slo.target * 100).toFixed(2)}%) is burning its error budget`,
    message: worst
      ? `burn rate ${worst.long.burnRate?.toFixed(1)}x over ${fmtMinutes(worst.long.minutes)} and ${worst.short.burnRate?.toFixed(1)}x over ${fmtMinutes(worst.short.minutes)} (alerting at ${worst.factor}x); source ${slo.source}, ${slo.events} events in the period`
      : `within budget; source ${slo.source ?? "none"}`,
    observed: worst?.long.errorRatio ?? slo.period.errorRatio, threshold: `error ratio < ${(1 - slo.target).toPrecision(2)}`,
    evidence: [], evidenceTotal: 0,
    budget: {
      burnRate: worst?.long.burnRate ?? slo.period.burnRate, remaining: slo.budgetRemaining, remainingMinutes: slo.budgetRemainingMinutes,
      windows: worst ? `${fmtMinutes(worst.long.minutes)}/${fmtMinutes(worst.short.minutes)}` : "",
    },
  };
}

function fmtMinutes(m: number): string {
  return m >= 1440 ? `${+(m / 1440).toFixed(1)}d` : m >= 60 ? `${+(m / 60).toFixed(1)}h` : `${+m.toFixed(1)}m`;
}

/**
 * How long an SLO that burned because of a root cause stays held after that cause recovered: its
 * windows keep the outage for a while (30 min is the 6 h page rule's short window at 30 days).
 */
const SLO_AFTER_ROOT_MS = 30 * 60_000;

/**
 * Turns state transitions into notifications, holding what silences and dependencies hold. One fault,
 * one page: an alert whose dependency fails (a root cause, followed up the chain) is held behind it,
 * "affected by" it, and listed in its page; once the root recovers, a held alert that passes again
 * resolves with it unannounced, and one that still fails is announced on its own.
 */
function decide(state: AlertState, input: AlertInput, measured: ReadonlySet<string>): Notification[] {
  const { now, settings } = input;
  const iso = now.toISOString();
  const out: Notification[] = [];
  const log = (text: string) => state.log.push({ at: iso, text });
  const sloDeps = new Map(input.slos.map((s) => [`slo/${s.id}`, s.dependsOn ?? []]));
  const depsOf = (rec: AlertRecord): string[] => {
    if (rec.type === "slo") return sloDeps.get(rec.key) ?? [];
    if (rec.probe && (rec.type === "check" || rec.type === "blind")) return dependenciesOf(settings.dependencies, rec.probe, rec.type === "check" ? rec.check : undefined);
    return [];
  };
  // Failing: firing, or failed in its latest run (a root that has not reached its trigger count yet).
  const failing = (key: string) => {
    const r = state.alerts[key];
    return !!r && (r.firing || (r.type !== "slo" && r.recent.endsWith("f")));
  };
  const rootOf = (rec: AlertRecord, seen: Set<string>): string | undefined => {
    seen.add(rec.key);
    const up = depsOf(rec).find((k) => failing(k) && !seen.has(k));
    return up ? (rootOf(state.alerts[up]!, seen) ?? up) : undefined;
  };
  const roots = new Map<string, string>();
  for (const rec of Object.values(state.alerts)) {
    const root = rootOf(rec, new Set());
    if (root) roots.set(rec.key, root);
    if (rec.type !== "check" && rec.type !== "blind") continue;
    if (root) rec.affectedBy = root;
    else if (measured.has(rec.key)) rec.affectedBy = undefined; // measured again with its root well: its own verdict
  }
  const heldBefore = new Map(Object.values(state.alerts).filter((r) => r.heldBy?.startsWith("dependency:")).map((r) => [r.key, r.heldBy!.slice("dependency:".length)]));
  const titleOf = (key: string) => state.alerts[key]?.snapshot.title ?? key;
  const affectedBy = (root: string, resolved: boolean) => {
    const keys = resolved
      ? [...heldBefore].filter(([, r]) => r === root).map(([k]) => k)
      : [...roots].filter(([k, r]) => r === root && failing(k)).map(([k]) => k);
    return keys.sort().map(titleOf);
  };

  for (const rec of Object.values(state.alerts)) {
    if (!rec.firing) {
      if (rec.since) {
        if (rec.notified) out.push(notify(rec, "resolved", iso, now.getTime() - Date.parse(rec.since ?? iso), affectedBy(rec.key, true)));
        else if (rec.since) log(`${rec.key} resolved without having been announced${rec.heldBy ? ` (held by ${rec.heldBy})` : ""}`);
        Object.assign(rec, { notified: false, since: undefined, heldBy: undefined, lastNotifiedAt: undefined, rootClearedAt: undefined });
      }
      continue;
    }
    // A check that restates another's failure (RESTATEMENTS) is held while that one failed in the same
    // run or fires, so a stuck canary pages once, for the stage it stopped at.
    let dependency = roots.get(rec.key)
      ?? (rec.type === "check" ? rec.restates ?? (RESTATEMENTS[rec.key] ?? []).find((k) => state.alerts[k]?.firing) : undefined);
    if (dependency) rec.rootClearedAt = undefined;
    else if (!rec.notified && rec.heldBy?.startsWith("dependency:")) {
      // Its root recovered: it stays with it unless it still fails on its own.
      rec.rootClearedAt ??= iso;
      // Still failing means measured failing since: a check not run again since says nothing new.
      const stillFails = rec.type === "slo" ? now.getTime() - Date.parse(rec.rootClearedAt) >= SLO_AFTER_ROOT_MS : measured.has(rec.key) && rec.recent.endsWith("f");
      if (!stillFails) dependency = rec.heldBy.slice("dependency:".length);
      else log(`${rec.key} still fails after ${rec.heldBy.slice("dependency:".length)} recovered: announced on its own`);
    }
    const silence = activeSilenceFor(input.silences, rec, now);
    const heldBy = dependency ? `dependency:${dependency}` : silence ? `silence:${silence.id}` : undefined;
    if (heldBy && heldBy !== rec.heldBy) log(`${rec.key} firing, held by ${heldBy}`);
    rec.heldBy = heldBy;
    if (heldBy) continue;
    if (!rec.notified) {
      out.push(notify(rec, "firing", iso, undefined, affectedBy(rec.key, false)));
      Object.assign(rec, { notified: true, lastNotifiedAt: iso });
    } else if (now.getTime() - Date.parse(rec.lastNotifiedAt ?? iso) >= settings.reminderMinutes * 60_000) {
      out.push(notify(rec, "reminder", iso, undefined, affectedBy(rec.key, false)));
      rec.lastNotifiedAt = iso;
    }
  }
  state.log = state.log.slice(-LOG_CAP);
  return out;
}

function notify(rec: AlertRecord, kind: Notification["kind"], at: string, durationMs?: number, affected: string[] = []): Notification {
  return {
    id: `${rec.key}@${kind}@${at}`, kind, alertKey: rec.key, alertType: rec.type, stage: rec.stage,
    ...(rec.probe ? { probe: rec.probe } : {}), ...(rec.check ? { check: rec.check } : {}), ...(rec.slo ? { slo: rec.slo } : {}),
    severity: rec.severity, ...rec.snapshot, since: rec.since ?? at,
    ...(durationMs !== undefined ? { durationMs: Math.max(0, durationMs) } : {}),
    ...(affected.length ? { affected } : {}),
  };
}
