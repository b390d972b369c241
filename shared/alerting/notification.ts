import { z } from "zod";

/**
 * One thing to tell people: an alert started firing, is still firing (a reminder), or resolved.
 * Notifications are decided by the pure alert evaluation, kept pending in the store until a send
 * succeeds, and grouped into one Slack message per evaluation.
 */
export const Notification = z.object({
  /** Unique per notification: alert key + kind + the time it was decided. Used to dedupe sends. */
  id: z.string(),
  kind: z.enum(["firing", "reminder", "resolved"]),
  /** e.g. "check/outbox/created-jobs", "missing/queue", "blind/receipts", "slo/error-rate". */
  alertKey: z.string(),
  /** What fired: a probe check failing, a probe missing (dead-man's switch), a blind probe, or an SLO burning. */
  alertType: z.enum(["check", "missing", "blind", "slo"]),
  /** Pipeline stage, for people: runner-api, outbox, queue, worker, receipts... */
  stage: z.string(),
  probe: z.string().optional(),
  check: z.string().optional(),
  slo: z.string().optional(),
  severity: z.enum(["page", "ticket", "warning"]),
  title: z.string(),
  message: z.string(),
  observed: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  threshold: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  evidence: z.array(z.string()),
  evidenceTotal: z.number().int().nonnegative(),
  /** When the alert started firing (ISO 8601). */
  since: z.string(),
  /** For resolved notifications: how long it lasted. */
  durationMs: z.number().nonnegative().optional(),
  /** For SLO alerts: the budget impact. */
  budget: z
    .object({ burnRate: z.number().nullable(), remaining: z.number().nullable(), remainingMinutes: z.number().nullable(), windows: z.string() })
    .optional(),
  /**
   * For a root cause: the alerts held behind it (their titles), failing because it fails. They page
   * only if they still fail after it recovers; its resolution lists those that recovered with it.
   */
  affected: z.array(z.string()).optional(),
  /** What an operator should do next, e.g. the remediation command. */
  nextStep: z.string().optional(),
  /**
   * The channels still owed this notification (shared/channels/dispatch.ts): set from the routes when
   * it is queued, each channel removed once it delivered. Absent on one decided before channels
   * existed: routed when next sent. Plain strings, so a stored state never fails on a renamed channel.
   */
  channels: z.array(z.string()).optional(),
});
export type Notification = z.infer<typeof Notification>;
