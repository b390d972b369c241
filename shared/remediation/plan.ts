import { z } from "zod";
import { checkEnvelope } from "../beacon/envelope.ts";
import { createdCause, judgeBacklog } from "../probes/outbox/judge.ts";
import type { OutboxSettings } from "../probes/outbox/settings.ts";
import type { StuckRow } from "../probes/outbox/queries.ts";
import type { Gathered, JobNow } from "./gather.ts";

/**
 * Deciding what republishing can fix. Pure: a function of what was gathered and the settings.
 *
 * Republishing (Beacon's RepublishJob) only inserts a new outbox row for a job. It helps a job stuck in
 * `created` whose row was never written (the outbox gap) or whose message was lost or unreadable (the
 * payload mismatch). It cannot help, and can hurt, when:
 *   - the publisher itself is down: the new row would wait behind the old ones;
 *   - the job already has an unpublished row: a second one would run the job twice;
 *   - its message is still in Beacon's queue (waiting, waiting for a retry, or being processed): with
 *     the worker stopped every published job looks "published, never picked up", and is not lost;
 *   - the job is not in `created`: it is past the outbox, or gone;
 *   - Beacon's database cannot be read: nothing can be judged.
 */

export const BlockCode = z.enum([
  "database-not-configured", "database-unreachable", "publisher-down", "admin-token-missing", "busy",
  "queue-not-configured", "queue-unreadable",
]);

export const PlanItem = z.object({
  jobId: z.string(),
  status: z.string().nullable(),
  ageSeconds: z.number().nullable(),
  /** The outbox probe's classification, e.g. "no outbox row"; null when the job is not stuck in created. */
  cause: z.string().nullable(),
  detail: z.string(),
  action: z.enum(["republish", "refuse"]),
  /** Why republishing was refused for this job. */
  reason: z.string().optional(),
});
export type PlanItem = z.infer<typeof PlanItem>;

export const Plan = z.object({
  /** The outbox as the publisher sees it. */
  publisher: z.object({ unpublished: z.number(), lag: z.string(), evidence: z.array(z.string()) }).nullable(),
  /** Set when nothing may be republished at all, with the reason. */
  blocked: z.object({ code: BlockCode, message: z.string(), evidence: z.array(z.string()).default([]) }).nullable(),
  items: z.array(PlanItem),
});
export type Plan = z.infer<typeof Plan>;

export function blockedPlan(code: z.infer<typeof BlockCode>, message: string): Plan {
  return { publisher: null, blocked: { code, message, evidence: [] }, items: [] };
}

const seconds = (s: number) => `${Math.round(s)} s`;

export function planRepublish(g: Gathered, settings: OutboxSettings, jobIds: string[]): Plan {
  // The publisher is judged on rows it can publish: a poison row stays unpublished forever without
  // meaning the publisher stopped (it moves on to the rows behind it).
  const publishable = g.outbox.filter((r) => r.kind !== "unpublished" || (r.payload_type === "object" && checkEnvelope(r.envelope).kind === "envelope"));
  const [, lag] = judgeBacklog(publishable, settings);
  const publisher = { unpublished: g.outbox[0]?.unpublished ?? 0, lag: lag!.message, evidence: lag!.evidence };
  const items = jobIds.length ? jobIds.map((id) => namedItem(id, g, settings)) : g.stuck.map(stuckItem);
  if (lag!.status === "fail") {
    const message = `Beacon's outbox publisher is not publishing: ${lag!.message} (limit ${settings.oldestUnpublishedFailSeconds} s). ` +
      "A republished job would only add a row behind them: restart or fix the publisher first.";
    return { publisher, blocked: { code: "publisher-down", message, evidence: lag!.evidence }, items };
  }
  return { publisher, blocked: null, items };
}

/** Refuses every candidate whose message Beacon's queue still holds, saying where it is. Pure. */
export function applyQueue(plan: Plan, held: ReadonlyMap<string, string>): Plan {
  const items = plan.items.map((item): PlanItem => {
    const where = item.action === "republish" ? held.get(item.jobId) : undefined;
    return where ? { ...item, action: "refuse", reason: `${where}: republishing would run the job twice` } : item;
  });
  return { ...plan, items };
}

function stuckItem(r: StuckRow): PlanItem {
  const { cause, detail } = createdCause(r);
  const base = { jobId: r.id, status: "created", ageSeconds: Math.round(r.age_s), cause, detail: `${seconds(r.age_s)} in created, ${detail}` };
  if (r.outbox_unpublished) {
    return { ...base, action: "refuse", reason: `outbox row ${r.outbox_id} is still unpublished: republishing would queue the job twice; the publisher will deliver it` };
  }
  return { ...base, action: "republish" };
}

function namedItem(id: string, g: Gathered, settings: OutboxSettings): PlanItem {
  const stuck = g.stuck.find((r) => r.id === id);
  if (stuck) return stuckItem(stuck);
  const now: JobNow | undefined = g.named.find((j) => j.id === id);
  const refuse = (reason: string, detail = reason): PlanItem => ({
    jobId: id, status: now?.status ?? null, ageSeconds: now ? Math.round(now.age_s) : null, cause: null, detail, action: "refuse", reason,
  });
  if (!now) return refuse("no job has this id");
  if (now.status !== "created") return refuse(`the job is ${now.status}, not created: republishing only helps jobs stuck in created`);
  if (now.age_s < settings.createdMaxSeconds) {
    return refuse(`the job has been in created for ${seconds(now.age_s)}, under the ${settings.createdMaxSeconds} s stuck threshold: it may still be picked up`);
  }
  if (now.unpublished > 0) return refuse(`the job has ${now.unpublished} unpublished outbox row(s): republishing would queue it twice`);
  // Stuck, but beyond the probe's sample (stuckSampleLimit): classified without the outbox scan.
  return { jobId: id, status: "created", ageSeconds: Math.round(now.age_s), cause: "no unpublished outbox row", detail: `${seconds(now.age_s)} in created, no unpublished outbox row`, action: "republish" };
}
