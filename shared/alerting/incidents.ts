import { z } from "zod";
import type { ProbeResult } from "../result.ts";
import { Notification } from "./notification.ts";
import { AlertRecord, type AlertState } from "./state.ts";

/**
 * Every incident's story: for each alert from FIRING to RESOLVED, one compact record kept in the
 * ledger's document (shared/alerting/ledger.ts), so it costs no store command of its own: the tick
 * already reads and writes the ledger. It says what fired (the root cause), when it fired and
 * resolved, the alerts held behind it, what each channel was told and when (copied from the ledger's
 * entries as they are written, since the ledger keeps only the latest per channel), and which Beacon
 * jobs it touched: the job ids cited by the failing checks' evidence while it fired.
 *
 * Bounded, as the ledger is read and written by every tick: INCIDENTS_KEEP incidents (oldest dropped
 * first), JOBS_KEEP job ids each for the RECENT_FULL newest and JOBS_KEEP_OLD for the older ones (the
 * rest counted), HELD_KEEP held alerts and SENDS_KEEP sends each. An alert held by a dependency opens no incident of its own: it is listed
 * in its root's.
 */

export const INCIDENTS_KEEP = 50;
/** Job ids listed per incident among the RECENT_FULL newest; older ones keep JOBS_KEEP_OLD (the rest counted in jobsMore). */
export const JOBS_KEEP = 20;
export const RECENT_FULL = 10;
export const JOBS_KEEP_OLD = 5;
export const HELD_KEEP = 10;
/** Five channels, each told the firing and the resolution. */
export const SENDS_KEEP = 10;

export const IncidentSend = z.object({
  channel: z.string(),
  /** What was announced: the alert firing or resolved. */
  state: z.enum(["firing", "resolved"]),
  /** The ledger's phase: intent (the send's outcome was never recorded), sent, unknown, failed. */
  phase: z.enum(["intent", "sent", "unknown", "failed"]),
  at: z.string(),
  /** When the notification was decided (its id is `<alert key>@<state>@<decidedAt>`). */
  decidedAt: z.string(),
  /** The channel's own key for it (PagerDuty's dedup_key...), when it is not the notification's id. */
  key: z.string().optional(),
});
export type IncidentSend = z.infer<typeof IncidentSend>;

/**
 * What fired is the alert's own identity (key, e.g. "check/outbox/jobs-stuck-created", type, stage,
 * probe/check/slo), taken from AlertRecord; its severity and title are a notification's (no default:
 * an incident always records the severity its alert had). Spread in this order so that a stored
 * incident keeps its field order.
 */
export const Incident = z.object({
  /** Short and sequential: "1", "2"... */
  id: z.string(),
  ...AlertRecord.pick({ key: true, type: true, stage: true, probe: true, check: true, slo: true }).shape,
  ...Notification.pick({ severity: true, title: true }).shape,
  /** When its alert started firing (a check's: the failing run's start). */
  firedAt: z.string(),
  /** When the tick that saw it firing decided so: its notifications are decided from then on. */
  openedAt: z.string(),
  resolvedAt: z.string().optional(),
  /** The silence that held its announcement, if one did. */
  silencedBy: z.string().optional(),
  /** Alerts held behind it (dependency:<this key>) while it fired. */
  held: z.array(z.string()).default([]),
  sends: z.array(IncidentSend).default([]),
  /** Beacon job ids cited by the failing checks while it fired, first seen first, at most JOBS_KEEP. */
  jobs: z.array(z.string()).default([]),
  /** Jobs beyond those listed that some tick saw (ids past the cap, evidence the checks cut): at least this many more. */
  jobsMore: z.number().int().nonnegative().default(0),
});
export type Incident = z.infer<typeof Incident>;

/** Where incidents live: fields of the ledger document. */
export interface IncidentBook {
  incidents: Incident[];
  incidentSeq: number;
  alerts: Record<string, { channels: Record<string, { id: string; state: "firing" | "resolved"; phase: IncidentSend["phase"]; at: string; key: string }> }>;
}

/**
 * The Beacon job ids cited by one evidence item, which starts with its id (shared/result.ts): "job <id>: ...",
 * "job <id> execution ...", a queue message's "<where> job <id>: ...", and an execution's "(job_id <id>)".
 */
export function jobIdsIn(evidence: string): string[] {
  const ids: string[] = [];
  const lead = /^(?:\S+ )?job ([^\s:(),]+)/.exec(evidence);
  if (lead) ids.push(lead[1]!);
  for (const m of evidence.matchAll(/\(job_id ([^\s:(),]+)\)/g)) if (m[1] !== "null") ids.push(m[1]!);
  return ids;
}

/** The alert key of a check. */
const checkKey = (probe: string, check: string) => `check/${probe}/${check}`;

/**
 * After the decision: opens an incident for each alert that fires (not held by a dependency) and has
 * none, updates the open ones (severity, silence, held alerts, jobs from this tick's failing checks),
 * and resolves those whose alert no longer fires. `sloSources` maps an SLO to its event source
 * ("probe:event"): an SLO's incident takes its jobs from that probe's failing checks. Updates `book`.
 */
export function trackIncidents(book: IncidentBook, alerts: AlertState, results: ProbeResult[], sloSources: Record<string, string | null>, now: Date): void {
  const at = now.toISOString();
  const open = new Map(book.incidents.filter((i) => !i.resolvedAt).map((i) => [i.key, i]));
  for (const incident of open.values()) {
    const rec = alerts.alerts[incident.key];
    if (!rec || !rec.firing || rec.since !== incident.firedAt) {
      incident.resolvedAt = at;
      open.delete(incident.key);
    }
  }
  for (const rec of Object.values(alerts.alerts)) {
    if (!rec.firing || !rec.since || rec.heldBy?.startsWith("dependency:") || open.has(rec.key)) continue;
    book.incidentSeq += 1;
    const incident: Incident = {
      id: String(book.incidentSeq), key: rec.key, type: rec.type, stage: rec.stage, severity: rec.severity, title: rec.snapshot.title.slice(0, 200), firedAt: rec.since, openedAt: at,
      ...(rec.probe ? { probe: rec.probe } : {}), ...(rec.check ? { check: rec.check } : {}), ...(rec.slo ? { slo: rec.slo } : {}),
      held: [], sends: [], jobs: [], jobsMore: 0,
    };
    book.incidents.push(incident);
    open.set(rec.key, incident);
  }
  for (const incident of open.values()) {
    const rec = alerts.alerts[incident.key]!;
    incident.severity = rec.severity;
    if (rec.heldBy?.startsWith("silence:")) incident.silencedBy = rec.heldBy.slice("silence:".length);
    const held = Object.values(alerts.alerts).filter((a) => a.firing && a.heldBy === `dependency:${incident.key}`).map((a) => a.key);
    for (const k of held) if (!incident.held.includes(k) && incident.held.length < HELD_KEEP) incident.held.push(k);
    const sourceProbe = incident.slo ? sloSources[incident.slo]?.split(":")[0] : undefined;
    const mine = new Set([incident.key, ...held]);
    const cited = new Set<string>();
    let cut = 0;
    for (const r of results) {
      for (const c of r.checks) {
        if (c.status !== "fail" || !(mine.has(checkKey(r.probe, c.name)) || r.probe === sourceProbe)) continue;
        for (const e of c.evidence) for (const id of jobIdsIn(e)) cited.add(id);
        cut += c.evidenceTotal - c.evidence.length;
      }
    }
    let unlisted = 0;
    for (const id of cited) {
      if (incident.jobs.includes(id)) continue;
      if (incident.jobs.length < JOBS_KEEP) incident.jobs.push(id);
      else unlisted += 1;
    }
    incident.jobsMore = Math.max(incident.jobsMore, unlisted + cut);
  }
  if (book.incidents.length > INCIDENTS_KEEP) book.incidents.splice(0, book.incidents.length - INCIDENTS_KEEP);
  for (const old of book.incidents.slice(0, -RECENT_FULL)) {
    if (old.jobs.length <= JOBS_KEEP_OLD || !old.resolvedAt) continue;
    old.jobsMore += old.jobs.length - JOBS_KEEP_OLD;
    old.jobs = old.jobs.slice(0, JOBS_KEEP_OLD);
  }
}

/**
 * Copies what the ledger says each channel was told about each incident's alert (its firing and its
 * resolution, their phases and times) into the incident, so its story outlives the ledger's next
 * entry for the same channel. Called after the intents are recorded and after the outcomes. Updates `book`.
 */
export function noteSends(book: IncidentBook): void {
  for (const incident of book.incidents) {
    const alert = book.alerts[incident.key];
    if (!alert) continue;
    for (const [channel, e] of Object.entries(alert.channels)) {
      // The notification's id ends with the time it was decided: within this incident, or another's.
      const decided = e.id.slice(e.id.lastIndexOf("@") + 1);
      if (decided < incident.openedAt || (incident.resolvedAt && decided > incident.resolvedAt)) continue;
      const send: IncidentSend = { channel, state: e.state, phase: e.phase, at: e.at, decidedAt: decided, ...(e.key === e.id ? {} : { key: e.key.slice(0, 120) }) };
      const i = incident.sends.findIndex((s) => s.channel === channel && s.state === e.state && s.decidedAt === decided);
      if (i >= 0) incident.sends[i] = send;
      else if (incident.sends.length < SENDS_KEEP) incident.sends.push(send);
    }
  }
}
