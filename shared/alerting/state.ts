import { z } from "zod";
import { Notification } from "./notification.ts";

/** One alert's memory: recent outcomes, whether it fires, and whether people were told. */
export const AlertRecord = z.object({
  key: z.string(),
  type: z.enum(["check", "missing", "blind", "slo"]),
  stage: z.string(),
  probe: z.string().optional(),
  check: z.string().optional(),
  slo: z.string().optional(),
  /** Outcomes of the last runs, oldest first: f = failed, p = passed, e = could not measure. */
  recent: z.string().default(""),
  passesInRow: z.number().int().default(0),
  firing: z.boolean().default(false),
  since: z.string().optional(),
  /** A firing notification was queued: a resolved one is owed when it clears. */
  notified: z.boolean().default(false),
  lastNotifiedAt: z.string().optional(),
  severity: z.enum(["page", "ticket", "warning"]).default("page"),
  /** Why a firing alert is not being announced: "silence:<id>" or "dependency:<alert key>". */
  heldBy: z.string().optional(),
  /**
   * The root cause this check's (or blindness's) latest failure is put down to: set while a dependency
   * fails, kept until the check is measured again, so its card says "affected by" the root instead of
   * failing on its own, also between the root's recovery and the check's next run.
   */
  affectedBy: z.string().optional(),
  /** When the root cause this alert was held behind stopped failing while this one still fired. */
  rootClearedAt: z.string().optional(),
  /** For a check that restates another (RESTATEMENTS): the restated alert that failed in the latest run, if any. */
  restates: z.string().optional(),
  snapshot: Notification.pick({ title: true, message: true, observed: true, threshold: true, evidence: true, evidenceTotal: true, budget: true, nextStep: true }),
});
export type AlertRecord = z.infer<typeof AlertRecord>;

export const AlertState = z.object({
  version: z.literal(1).default(1),
  /** When the fan-in first ran: the grace period for "probe missing" starts here. */
  startedAt: z.string().optional(),
  /** Latest result time per probe. */
  lastSeen: z.record(z.string(), z.string()).default({}),
  alerts: z.record(z.string(), AlertRecord).default({}),
  /** Notifications decided but not yet delivered: sent by the next evaluation if a send fails. */
  pending: z.array(Notification).default([]),
  /** Recent decisions, newest last, including what was held by silences. Capped. */
  log: z.array(z.object({ at: z.string(), text: z.string() })).default([]),
});
export type AlertState = z.infer<typeof AlertState>;

export const LOG_CAP = 100;

export function emptyState(): AlertState {
  return AlertState.parse({});
}

/**
 * The alert state as stored: records that say nothing a fresh one would not are left out. A record
 * not firing, owing nothing, with no failure in its window and nothing held or attributed is what
 * `record()` (evaluate.ts) creates again on the check's next run, and its snapshot is rewritten on every
 * run while it does not fire; keeping 60 of them cost 5.6 KB of every minute's write. Pure.
 */
export function compactAlerts(state: AlertState): AlertState {
  const idle = (r: AlertRecord) =>
    !r.firing && !r.notified && !r.recent.includes("f") && r.heldBy === undefined && r.affectedBy === undefined && r.rootClearedAt === undefined && r.restates === undefined;
  return { ...state, alerts: Object.fromEntries(Object.entries(state.alerts).filter(([, r]) => !idle(r))) };
}
