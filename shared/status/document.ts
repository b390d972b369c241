import { STAGES } from "../probes/types.ts";
import type { ProbeResult } from "../result.ts";
import { isActive } from "../alerting/silences.ts";
import type { AlertState } from "../alerting/state.ts";
import type { Silence } from "../alerting/silences.ts";
import type { HistoryEntry, TimelineBucket } from "./history.ts";
import { sloEntries, type StoredSlos } from "./slos.ts";
import { buildTimeline } from "./timeline.ts";
import { stageOfCheck, stagesOfProbe } from "../probes/catalog.ts";
import type { RegionsSection } from "../probes/regions/definition.ts";
import type { Incident } from "../alerting/incidents.ts";
import { StatusDocument, type RecentIncident, type FiringAlert, type MonitoringStatus, type ProbeStatus, type StageStatus, type State } from "./schema.ts";

/** What the status document is built from: the tick's memory after an evaluation. */
export interface StatusSnapshot {
  latest: Record<string, ProbeResult | null>;
  /** Newest first. */
  histories: Record<string, HistoryEntry[]>;
  /** Pre-aggregated 15-minute slots per probe. */
  timelines: Record<string, TimelineBucket[]>;
  slos: StoredSlos | null;
  alerts: AlertState | null;
  silences: Silence[];
  monitoring?: MonitoringStatus;
  /** The `regions` probe's latest region × model grid, when it has run. */
  regions?: RegionsSection;
  /** The incidents the ledger keeps, oldest first (absent when the caller has none to give). */
  incidents?: Incident[];
}

/** Incidents the status document carries: the page's "Recent incidents", bounded so the document stays small. */
export const RECENT_INCIDENTS = 10;

/** A probe as the status document needs it: the registry's fields plus its cadence. */
export interface ProbeInfo {
  id: string;
  title: string;
  stage: string;
  schedule: string;
  intervalMs: number;
}

/** The stages the status page always draws, in the order a job travels them (a stage no probe watches shows as unknown). */
export const PIPELINE: readonly string[] = ["portal", "runner-api", "outbox", "queue", "worker", "receipts"];

const STAGE_TITLES: Record<string, string> = {
  portal: "Portal", "runner-api": "Runner API", database: "Database", outbox: "Outbox", queue: "Queue", worker: "Worker", receipts: "Receipts",
};

/** Worst first: a measured failure, then blindness, then degradation, then not knowing. */
const RANK: Record<State, number> = { pass: 0, unknown: 1, warn: 2, error: 3, fail: 4 };
export function worstState(states: Iterable<State>, empty: State = "unknown"): State {
  let worst: State | undefined;
  for (const s of states) if (worst === undefined || RANK[s] > RANK[worst]) worst = s;
  return worst ?? empty;
}

export interface BuildStatusOptions {
  now: Date;
  probes: ProbeInfo[];
  /** A probe silent for more than staleFactor × its interval is stale (as the alerting's "missing"). */
  staleFactor: number;
  /** Compact history entries included per probe (default: all the tick keeps). */
  historyCount?: number;
}

/** Builds the versioned status document. Pure: everything comes in through the snapshot and options. */
export function buildStatusDocument(snapshot: StatusSnapshot, options: BuildStatusOptions): StatusDocument {
  const { now } = options;
  const probes = options.probes.map((info) => probeStatus(info, snapshot, options));
  const firing = firingAlerts(snapshot.alerts);
  return StatusDocument.parse({
    version: 1,
    generatedAt: now.toISOString(),
    ...assemble(probes, sloEntries(snapshot.slos), firing),
    alerts: { firing, silences: silencesOf(snapshot, now) },
    ...(snapshot.monitoring ? { monitoring: snapshot.monitoring } : {}),
    ...(snapshot.regions ? { regions: snapshot.regions } : {}),
    ...(snapshot.incidents ? { recentIncidents: recentIncidents(snapshot.incidents, now) } : {}),
  });
}

/** The newest RECENT_INCIDENTS incidents, newest first, each compact: no job ids, no sends, no held alerts. */
export function recentIncidents(incidents: Incident[], now: Date): RecentIncident[] {
  return incidents.slice(-RECENT_INCIDENTS).reverse().map((i) => {
    const end = i.resolvedAt ? Date.parse(i.resolvedAt) : now.getTime();
    return {
      id: i.id, title: i.title, stage: i.stage, severity: i.severity, state: i.resolvedAt ? "resolved" : "open", firedAt: i.firedAt,
      ...(i.resolvedAt ? { resolvedAt: i.resolvedAt } : {}), durationMs: Math.max(0, end - Date.parse(i.firedAt)),
      jobsTouched: i.jobs.length + i.jobsMore, link: `/api/incidents/${encodeURIComponent(i.id)}`,
    };
  });
}

/**
 * The stored document as of `now`, for a view between two ticks: ages move on, and a probe (or the
 * whole sentinel) that stopped reporting turns stale even though nothing rewrote the document.
 */
export function statusAsOf(doc: StatusDocument, now: Date, staleFactor: number): StatusDocument {
  const probes = doc.probes.map((p): ProbeStatus => {
    if (!p.latest) return p;
    const ageMs = Math.max(0, now.getTime() - Date.parse(p.latest.startedAt));
    const stale = ageMs > staleFactor * p.intervalSeconds * 1000;
    return { ...p, ageSeconds: Math.round(ageMs / 1000), stale, state: stale ? "error" : ownState(p.latest, p.affected) };
  });
  return { ...doc, ...assemble(probes, doc.slos, doc.alerts.firing) };
}

/** The check names of a probe's latest result in a stored document; undefined before its first result. */
export function latestChecks(doc: StatusDocument | undefined, probe: string): string[] | undefined {
  return doc?.probes.find((p) => p.id === probe)?.latest?.checks.map((c) => c.name);
}

/** Stages and the overall verdict from the probes, the SLOs and the firing alerts. */
function assemble(probes: ProbeStatus[], slos: StatusDocument["slos"], firing: FiringAlert[]) {
  const stages = stageOrder(probes).map((stage) => stageStatus(stage, probes));
  const held = new Set(firing.filter((a) => a.type === "slo" && a.heldBy?.startsWith("dependency:")).map((a) => a.slo));
  const burning = slos.items.filter((s) => s.severity && !held.has(s.id));
  const watched = stages.filter((s) => s.probes.length > 0);
  let state = worstState(watched.map((s) => s.state));
  if (burning.some((s) => s.severity === "page")) state = worstState([state, "fail"]);
  else if (burning.length) state = worstState([state, "warn"]);
  if (probes.every((p) => p.latest === null)) state = "unknown";

  const problems = watched.filter((s) => s.state !== "pass").map((s) => `${s.title} ${WORD[s.state]}`);
  problems.push(...burning.map((s) => `SLO ${s.id} burning its error budget (${s.severity})`));
  // Never greener than the alerts: a check alert keeps firing until it has passed K runs in a row, so
  // a stage can read "passing" again while its alert (and the page someone got) still stands.
  // Alerts held behind a root cause are that cause's: they count once, through it.
  const louder = firing.filter((a) => a.type !== "slo" && !a.heldBy?.startsWith("dependency:") && RANK[alertState(a)] > RANK[state]);
  if (louder.length) {
    state = worstState([state, ...louder.map(alertState)]);
    problems.push(`${louder.length === 1 ? "an alert is" : `${louder.length} alerts are`} still firing (${louder.map((a) => a.title).join("; ")})`);
  }
  const message = state === "unknown" && probes.every((p) => p.latest === null)
    ? "no probe results yet"
    : problems.length ? problems.join("; ") : `all ${watched.length} watched stages passing`;
  return { overall: { state, message }, stages, probes, slos };
}

/** What a firing alert says about the pipeline: a page is a failure, a ticket a degradation, a silent or blind probe blindness. */
function alertState(a: FiringAlert): State {
  if (a.type === "blind" || a.type === "missing") return "error";
  return a.severity === "page" ? "fail" : "warn";
}

export const WORD: Record<State, string> = { pass: "passing", warn: "degraded", fail: "failing", error: "blind", unknown: "unknown" };

/** The pipeline's stages, plus any other stage a probe's checks land on, in STAGES order. */
export function stageOrder(probes: { id?: string; stage: string }[]): string[] {
  const used = new Set(probes.flatMap((p) => stagesOfProbe(p.id ?? "", p.stage)));
  const ordered = (STAGES as readonly string[]).filter((s) => PIPELINE.includes(s) || used.has(s));
  return [...ordered, ...[...used].filter((s) => !ordered.includes(s))];
}

function probeStatus(info: ProbeInfo, snapshot: StatusSnapshot, options: BuildStatusOptions): ProbeStatus {
  const latest = snapshot.latest[info.id] ?? null;
  const ageMs = latest ? Math.max(0, options.now.getTime() - Date.parse(latest.startedAt)) : null;
  const stale = ageMs !== null && ageMs > options.staleFactor * info.intervalMs;
  const history = [...(snapshot.histories[info.id] ?? [])].sort((a, b) => b.t.localeCompare(a.t));
  const affected = affectedChecks(info.id, latest, snapshot.alerts);
  return {
    id: info.id, title: info.title, stage: info.stage, schedule: info.schedule,
    intervalSeconds: Math.round(info.intervalMs / 1000),
    state: !latest ? "unknown" : stale ? "error" : ownState(latest, affected),
    latest, stale,
    ...(affected ? { affected } : {}),
    ageSeconds: ageMs === null ? null : Math.round(ageMs / 1000),
    history: options.historyCount === undefined ? history : history.slice(0, options.historyCount),
    timeline: buildTimeline(snapshot.timelines[info.id] ?? [], options.now),
  };
}

/**
 * The latest result's checks that failed (or could not measure) because of a root cause elsewhere, as
 * the alerting put them down (`affectedBy`): check name -> the root's title. A probe that could not run
 * at all behind a root cause has every check affected (its blindness is).
 */
function affectedChecks(probe: string, latest: ProbeResult | null, alerts: AlertState | null): Record<string, string> | undefined {
  if (!latest || !alerts) return undefined;
  const titleOf = (key: string) => alerts.alerts[key]?.snapshot.title ?? key;
  const blindRoot = alerts.alerts[`blind/${probe}`]?.affectedBy;
  const out: Record<string, string> = {};
  for (const c of latest.checks) {
    if (c.status === "pass" || c.status === "warn") continue;
    const root = alerts.alerts[`check/${probe}/${c.name}`]?.affectedBy ?? (c.status === "error" ? blindRoot : undefined);
    if (root) out[c.name] = titleOf(root);
  }
  if (latest.checks.length === 0 && latest.error && blindRoot) out[""] = titleOf(blindRoot);
  return Object.keys(out).length ? out : undefined;
}

/** A probe's own state: its latest result without the checks affected by a root cause elsewhere. */
function ownState(latest: ProbeResult, affected: Record<string, string> | undefined): State {
  if (!affected) return latest.status;
  if (latest.checks.length === 0) return affected[""] ? "pass" : latest.status;
  return worstState(latest.checks.filter((c) => !(c.name in affected)).map((c) => c.status), "pass");
}

/** One probe's word on one stage: a state, and what is not passing in words. */
export interface Contribution {
  probe: ProbeStatus;
  state: State;
  notes: string[];
}

/**
 * What each probe says about each stage. A probe with no result, a stale one, or one that could not run
 * speaks for its home stage only. Otherwise each check lands on the stage it is about
 * (`stageOfCheck`). A check that could not measure says nothing about another stage: it counts on the
 * probe's home stage, and not at all when one of the probe's checks failed (the canary's stages "not
 * reached yet" behind a failed one, or receipts not judged because the API answered 500, are held
 * behind that failure, not a second problem).
 */
export function contributions(p: ProbeStatus, describe: (p: ProbeStatus) => string = probeNote): Map<string, Contribution> {
  const out = new Map<string, Contribution>();
  const add = (stage: string, state: State, note?: string) => {
    const c = out.get(stage) ?? { probe: p, state: "pass", notes: [] };
    c.state = worstState([c.state, state]);
    if (note) c.notes.push(note);
    out.set(stage, c);
  };
  const r = p.latest;
  if (!r || p.stale || r.error || r.checks.length === 0) {
    add(p.stage, p.state, p.state === "pass" ? undefined : p.affected?.[""] ? `affected by ${p.affected[""]}` : describe(p));
    return out;
  }
  const failedSomewhere = r.checks.some((c) => c.status === "fail" && !p.affected?.[c.name]);
  for (const c of r.checks) {
    let stage = stageOfCheck(p.id, p.stage, c.name);
    const root = p.affected?.[c.name];
    if (root) {
      // Counted once, as its root cause: here it is only "affected by" it.
      add(stage, "pass", `${c.name} affected by ${root}`);
      continue;
    }
    if (c.status === "error") {
      if (failedSomewhere) continue;
      stage = p.stage;
    }
    add(stage, c.status, c.status === "pass" ? undefined : `${c.name} ${WORD[c.status]}`);
  }
  return out;
}

function stageStatus(stage: string, probes: ProbeStatus[]): StageStatus {
  const title = STAGE_TITLES[stage] ?? stage;
  const mine = probes.flatMap((p) => contributions(p).get(stage) ?? []);
  if (mine.length === 0) return { id: stage, title, state: "unknown", probes: [], message: "no probe watches this stage" };
  const state = worstState(mine.map((c) => c.state));
  return { id: stage, title, state, probes: mine.map((c) => c.probe.id), message: stageMessage(mine) };
}

/** "Canary: stage:outbox failing; Outbox and stuck jobs: jobs-stuck-created failing", or "all checks pass". */
export function stageMessage(mine: Contribution[]): string {
  const notes = mine.filter((c) => c.notes.length).map((c) => `${c.probe.title}: ${c.notes.join(", ")}`);
  return notes.length ? notes.join("; ") : "all checks pass";
}

function probeNote(p: ProbeStatus): string {
  if (!p.latest) return "no result yet";
  if (p.stale) return `no result for ${minutes(p.ageSeconds ?? 0)} (expected every ${minutes(p.intervalSeconds)})`;
  if (p.latest.error) return p.latest.error;
  return notPassing(p.latest).map((c) => `${c.name} ${WORD[c.status]}`).join(", ") || WORD[p.state];
}

function notPassing(result: ProbeResult) {
  return result.checks.filter((c) => c.status !== "pass");
}

function minutes(seconds: number): string {
  return seconds < 120 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

const SEVERITY_ORDER: Record<string, number> = { page: 0, ticket: 1, warning: 2 };

function firingAlerts(state: AlertState | null): FiringAlert[] {
  if (!state) return [];
  return Object.values(state.alerts)
    .filter((a) => a.firing)
    .sort((a, b) => (SEVERITY_ORDER[a.severity] ?? 9) - (SEVERITY_ORDER[b.severity] ?? 9) || (a.since ?? "").localeCompare(b.since ?? ""))
    .map((a) => ({
      key: a.key, type: a.type, stage: a.type === "check" && a.probe ? stageOfCheck(a.probe, a.stage, a.check) : a.stage, probe: a.probe, check: a.check, slo: a.slo, severity: a.severity,
      since: a.since ?? null, heldBy: a.heldBy, title: a.snapshot.title, message: a.snapshot.message,
      observed: a.snapshot.observed, threshold: a.snapshot.threshold, evidence: a.snapshot.evidence,
      evidenceTotal: a.snapshot.evidenceTotal, nextStep: a.snapshot.nextStep,
    }));
}

/** Active and upcoming silences (maintenance windows); expired ones are history. */
function silencesOf(snapshot: StatusSnapshot, now: Date) {
  return snapshot.silences
    .filter((s) => Date.parse(s.endsAt) > now.getTime())
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt))
    .map((s) => ({ ...s, active: isActive(s, now) }));
}
