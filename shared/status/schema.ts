import { z } from "zod";
import { ProbeResult, State } from "../result.ts";
import { RegionsSection } from "../probes/regions/definition.ts";
import { HistoryEntry } from "./history.ts";
import { Monitoring } from "./monitoring.ts";
import { Silence } from "../alerting/silences.ts";
import { DaySummary } from "./days.ts";

/**
 * The status document: what GET /api/status returns, what the page, the badge, the metrics and
 * `sentinel status` are built from. A stable, versioned envelope, not whatever Redis holds: fields are
 * only ever added within version 1.
 */

export { State };

/** One slot of a probe's 24-hour timeline. */
export const TimelineSlot = z.object({
  start: z.iso.datetime(),
  /** Worst outcome of the runs in the slot; `unknown` when none ran. */
  state: State,
  runs: z.number().int().nonnegative(),
  /** Runs that did not pass. */
  notPassing: z.number().int().nonnegative(),
  /** Mean and longest run duration in the slot, ms; null without runs (the tick keeps a slot's total and longest, not every run). */
  meanMs: z.number().nullable().default(null),
  maxMs: z.number().nullable(),
});
export type TimelineSlot = z.infer<typeof TimelineSlot>;

export const ProbeStatus = z.object({
  id: z.string(),
  title: z.string(),
  stage: z.string(),
  schedule: z.string(),
  /** Expected time between runs, from the schedule. */
  intervalSeconds: z.number(),
  /** The latest result's status; `error` when results stopped coming (stale); `unknown` before the first. */
  state: State,
  latest: ProbeResult.nullable(),
  /** No result for longer than staleFactor × interval: the probe is not running. */
  stale: z.boolean(),
  /** Seconds since the latest result started; null before the first. */
  ageSeconds: z.number().nullable(),
  /**
   * Checks of the latest result whose failure is put down to a root cause elsewhere (the alerting's
   * dependencies): check name -> the root cause's title. They show "affected by" it, and count toward
   * no stage, probe or overall state: the root cause does, once. Absent when none.
   */
  affected: z.record(z.string(), z.string()).optional(),
  /** The most recent compact history entries, newest first. */
  history: z.array(HistoryEntry),
  /** The last 24 hours in equal slots, oldest first. */
  timeline: z.array(TimelineSlot),
});
export type ProbeStatus = z.infer<typeof ProbeStatus>;

export const StageStatus = z.object({
  id: z.string(),
  title: z.string(),
  state: State,
  /** Probes that watch this stage; empty when nothing does (the stage is then `unknown`). */
  probes: z.array(z.string()),
  message: z.string(),
});
export type StageStatus = z.infer<typeof StageStatus>;

export const SloWindow = z.object({
  /** e.g. "5m", "1h", "30d". */
  window: z.string(),
  minutes: z.number(),
  good: z.number(),
  total: z.number(),
  /** Bad over all events; null without events. */
  errorRatio: z.number().nullable(),
  /** errorRatio over the error budget; null without events or with fewer than the SLO's `enoughEvents`. */
  burnRate: z.number().nullable(),
});
export type SloWindow = z.infer<typeof SloWindow>;

export const SloCounters = z.object({ good: z.number().int().nonnegative(), total: z.number().int().nonnegative() });
export type SloCounters = z.infer<typeof SloCounters>;

export const SloEntry = z.object({
  id: z.string(),
  title: z.string(),
  target: z.number(),
  periodDays: z.number(),
  /** The event source behind the numbers, and how many events it had in the period. */
  source: z.string().nullable(),
  events: z.number(),
  /**
   * Events a window must hold before it is judged: more than 1 / (1 - target), so one bad event never
   * spends the budget alone (shared/slo/objectives.ts enoughEvents). Below it a window shows no burn
   * rate and the budget is "not enough data". Absent in documents written before it existed (100).
   */
  enoughEvents: z.number().optional(),
  /** The whole period first, then each alert window once, shortest first. */
  windows: z.array(SloWindow),
  /** Share of the period's error budget left (below 0 when overspent); null without enough events. */
  budgetRemaining: z.number().nullable(),
  budgetRemainingMinutes: z.number().nullable(),
  burnAlerts: z.array(z.object({
    severity: z.string(), factor: z.number(), longWindow: z.string(), shortWindow: z.string(),
    longBurnRate: z.number().nullable(), shortBurnRate: z.number().nullable(), firing: z.boolean(), guarded: z.boolean(),
  })),
  /** The most severe firing burn-rate alert, if any. */
  severity: z.string().nullable(),
  /**
   * Events counted toward the SLO since its counters began (from the source the SLO used at the time):
   * monotonic, reset only when the store loses them. Exported as the `_total` counters from which
   * Prometheus recording rules rebuild the SLI over any window. Absent until the fan-in keeps them.
   */
  counters: SloCounters.optional(),
});
export type SloEntry = z.infer<typeof SloEntry>;

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const FiringAlert = z.object({
  key: z.string(),
  type: z.string(),
  stage: z.string(),
  probe: z.string().optional(),
  check: z.string().optional(),
  slo: z.string().optional(),
  severity: z.string(),
  since: z.string().nullable(),
  /** Why it is not being announced: "silence:<id>" or "dependency:<alert key>". */
  heldBy: z.string().optional(),
  title: z.string(),
  message: z.string(),
  observed: Scalar,
  threshold: Scalar,
  evidence: z.array(z.string()),
  evidenceTotal: z.number(),
  nextStep: z.string().optional(),
});
export type FiringAlert = z.infer<typeof FiringAlert>;

export const SilenceStatus = Silence.extend({ active: z.boolean() });

/** The sentinel watching itself: its last evaluation, what it lost, what it could not deliver. */
export const MonitoringStatus = Monitoring.extend({
  /** Notifications decided and not yet delivered (retried by the next tick). */
  pendingNotifications: z.number().int().nonnegative(),
  /** When the next evaluation is expected; a page older than this is looking at a stalled sentinel. */
  nextTickBy: z.string().nullable(),
});
export type MonitoringStatus = z.infer<typeof MonitoringStatus>;

/**
 * One of the recent incidents (shared/alerting/incidents.ts), compact, as the page's "Recent incidents"
 * shows it: what fired, when, for how long, how many Beacon jobs it touched (never which: the ids are in
 * its story, GET /api/incidents/<id>, which the link names). Copied at write time, so a view reads no more.
 */
export const RecentIncident = z.object({
  id: z.string(),
  title: z.string(),
  stage: z.string(),
  severity: z.string(),
  state: z.enum(["open", "resolved"]),
  firedAt: z.string(),
  resolvedAt: z.string().optional(),
  /** How long it fired (until the document was written while open). */
  durationMs: z.number().nonnegative(),
  /** Jobs its story lists plus those counted beyond the list. */
  jobsTouched: z.number().int().nonnegative(),
  /** Its story: /api/incidents/<id>. */
  link: z.string(),
});
export type RecentIncident = z.infer<typeof RecentIncident>;

export const StatusDocument = z.object({
  version: z.literal(1),
  generatedAt: z.iso.datetime(),
  overall: z.object({ state: State, message: z.string() }),
  /** Pipeline stages in the order a job travels them. */
  stages: z.array(StageStatus),
  probes: z.array(ProbeStatus),
  slos: z.object({ evaluatedAt: z.string().nullable(), items: z.array(SloEntry) }),
  alerts: z.object({ firing: z.array(FiringAlert), silences: z.array(SilenceStatus) }),
  /** How the sentinel itself is doing (absent in documents written before it existed). */
  monitoring: MonitoringStatus.optional(),
  /** Region × model execution health over the last 24 hours (absent until the `regions` probe has run). */
  regions: RegionsSection.optional(),
  /** The RECENT_INCIDENTS newest incidents, newest first (absent in documents written before it existed). */
  recentIncidents: z.array(RecentIncident).optional(),
  /**
   * Up to HISTORY_DAYS daily summaries per stage and check (shared/status/days.ts), oldest first; the
   * last is today so far. Absent in documents written before it existed.
   */
  history: z.object({ days: z.array(DaySummary) }).optional(),
});
export type StatusDocument = z.infer<typeof StatusDocument>;
