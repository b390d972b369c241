import { parseQueueMessage } from "../../beacon/envelope.ts";
import { excerpt } from "../../http.ts";
import type { CanaryPath, CanaryStage } from "./settings.ts";
import type { Facts } from "./facts.ts";
import type { Observation } from "./observe.ts";
import { QUESTION_ID_CONSEQUENCE, QUESTION_ID_MISSING } from "../../beacon/question-column.ts";

export interface Cause {
  message: string;
  evidence: string[];
}

const secs = (n: number) => `${Math.round(n)} s`;

/**
 * Why a stage did not happen within its budget, in the words an on-call engineer needs: how long the
 * job has been in which status, and the likely cause ("31 s in created: no outbox row").
 */
export function missedCause(stage: CanaryStage, id: string, facts: Facts, obs: Observation, nowS: number, path: CanaryPath = "queue"): Cause {
  const where = `${secs(nowS)} in ${facts.status ?? "no status"}`;
  const job = `job ${id}`;
  const db = facts.db;
  if (db?.questionIdMissing && db.executions === 0 && (stage === "started" || stage === "completed" || stage === "receipt")) {
    return { message: `${where}: no execution row: ${QUESTION_ID_MISSING}`, evidence: [job, QUESTION_ID_CONSEQUENCE] };
  }
  if (path === "cross-region") {
    const portal = portalCause(stage, where, facts);
    if (portal) return { message: portal, evidence: [job] };
  }
  const queue = obs.queue && !("error" in obs.queue) ? obs.queue : undefined;
  switch (stage) {
    case "created":
      return { message: `${secs(nowS)} after a 202: no job row (the write was lost, or the sentinel reads another database)`, evidence: [job] };
    case "outbox":
      return { message: `${where}: no outbox row (republish it: POST /admin/republish-job {"job_id":"${id}"})`, evidence: [job] };
    case "published": {
      const older = db?.oldestUnpublishedId && db.outboxId && BigInt(db.oldestUnpublishedId) < BigInt(db.outboxId);
      // Rows after the oldest unpublished one were published: the publisher runs but not that row. None
      // were: it publishes nothing (stopped, or every fetch fails: on the real runner a revoked SELECT
      // on outbox logs "outbox fetch error ... permission denied" and the canary saw exactly this).
      const why = older && db!.publishedPastOldest
        ? `the publisher is stuck on older row ${db!.oldestUnpublishedId} (a poison row is retried forever)`
        : `the outbox publisher has published nothing since row ${db?.oldestUnpublishedId ?? db?.outboxId ?? "?"}: it is stopped or every fetch fails (its log says why)`;
      return { message: `${where}: outbox row ${db?.outboxId ?? "?"} unpublished: ${why}`, evidence: [job, `outbox row ${db?.outboxId ?? "?"}`] };
    }
    case "queued": {
      if (queue?.dead) return { message: `${where}: published, then dead-lettered: ${deadReason(queue.dead)}`, evidence: [job, `dead: ${excerpt(queue.dead, 200)}`] };
      if (queue?.retry) return { message: `${where}: published, then parked in the retry set: ${deadReason(queue.retry)}`, evidence: [job, `retry: ${excerpt(queue.retry, 200)}`] };
      return { message: `${where}: published but neither on ${queue?.key ?? "the queue"} (${queue?.depth ?? "?"} deep) nor picked up: the message was lost`, evidence: [job] };
    }
    case "processing":
      if (queue?.waiting) return { message: `${where}: waiting on ${queue.key} (${queue.depth} deep): the worker is not consuming`, evidence: [job, `queue ${queue.key}`] };
      return { message: `${where}: not picked up by the worker`, evidence: [job] };
    case "started":
      // A start budget shorter than the pickup's: the message still waiting on the queue is the cause (seen on the real runner).
      if (queue?.waiting) return { message: `${where}: no execution started: waiting on ${queue.key} (${queue.depth} deep): the worker is not consuming`, evidence: [job, `queue ${queue.key}`] };
      return { message: `${where}: no execution started (the worker is slow, or the router/executor is down)`, evidence: [job] };
    case "completed":
      if (facts.status === "failed") return { message: `job failed: ${db ? `${db.failed} of ${db.executions} executions failed${runnerCauses(db)}` : "Beacon marked it failed"}`, evidence: [job] };
      if (db?.startedS != null) return { message: `${where}: an execution started but none completed (executor slow or hung)`, evidence: [job] };
      return { message: `${where}: no execution completed`, evidence: [job] };
    case "receipt":
      if (facts.receipts?.problems.length) return { message: `the receipt breaks the contract: ${facts.receipts.problems[0]}`, evidence: [job, ...facts.receipts.problems] };
      return { message: `${where}: no receipt served by the job details (receipt_data NULL?)`, evidence: [job] };
    default:
      return { message: where, evidence: [job] };
  }
}

/**
 * The portal path's own causes (`cross_region_handlers.go:171-264`, `cross_region_executor.go:218-228`):
 * the run is an in-process goroutine that writes a region's rows when the region ends and the job's
 * status only at the end, so a job with no row and no status is a run that ended without a word (too
 * few regions with a provider, or a runner restart: nothing recovers either) or one still waiting on
 * the router.
 */
function portalCause(stage: CanaryStage, where: string, facts: Facts): string | undefined {
  const db = facts.db;
  if ((stage === "started" || stage === "completed") && facts.status === "completed" && db?.executions === 0) {
    return `${where}: the run completed the job but no execution row was stored${portalRecord(db)}: its row inserts run in goroutines of their own ` +
      "(cross_region_executor.go:435) and fail when the run's context is cancelled as it ends (cross_region_handlers.go:242-243; the runner logs " +
      "\"failed to lookup job: context canceled\"): the portal shows no answer for it";
  }
  if (stage === "started") {
    return `${where}: no execution row written by the in-process run (it writes a region's rows when the region ends): ` +
      "the router or Modal has not answered, or the run ended without a status (no provider for the region, or a runner restart: the job stays queued for good)";
  }
  if (stage !== "completed") return undefined;
  if (facts.status === "failed") return `job failed: ${db ? `${db.failed} of ${db.executions} executions failed${runnerCauses(db)}` : "Beacon marked it failed"}${portalRecord(db)}`;
  if (facts.status === "running") return `${where}: the run ended partial (fewer regions succeeded than min_success_rate asks): Beacon leaves such a job running for good`;
  if (db && db.executions > 0 && db.completed + db.failed === db.executions) {
    return `${where}: every execution row is written (${db.completed} completed, ${db.failed} failed) but the run wrote no job status`;
  }
  return undefined;
}

/**
 * " (the runner's record: run failed; region_results US failed "all executions failed")": the portal
 * path's own words, since its failed rows carry none (`cross_region_handlers.go:366-428`).
 */
function portalRecord(db: Facts["db"]): string {
  const record = db?.crossRegion;
  if (!record) return " (no cross_region_executions record)";
  const regions = (record.regions ?? []).map((r) => `${r.region} ${r.status}${r.error ? ` "${r.error}"` : ""}`);
  return ` (the runner's record: run ${record.status}; region_results ${regions.length ? regions.join(", ") : "none"})`;
}

/** ", the runner's cause: ROUTER_ERROR", from the failed rows' `output_data.error_code`; "" when none is recorded. */
function runnerCauses(db: NonNullable<Facts["db"]>): string {
  const codes = db.failureCodes ?? [];
  return codes.length ? `, the runner's cause: ${codes.join(", ")}` : "";
}

/** A stage that happened after its budget. */
export function lateCause(stage: CanaryStage, at: number, budget: number): string {
  const hint = stage === "started" ? ": the worker or the executor is slow (the processing-time SLO counts this)" : "";
  return `happened ${at.toFixed(1)} s after submission, later than its ${budget} s budget${hint}`;
}

/** What a dead-letter or retry entry says about itself, e.g. the payload-mismatch shape. */
function deadReason(raw: string): string {
  const parsed = parseQueueMessage(raw);
  let error = "";
  try {
    const value = JSON.parse(raw) as { error?: unknown };
    if (typeof value.error === "string" && value.error) error = ` (worker error: ${excerpt(value.error, 80)})`;
  } catch {
    /* described by parseQueueMessage */
  }
  if (parsed.kind === "invalid") return `${parsed.reason}${error}`;
  return `a ${parsed.kind === "job-message" ? "JobMessage" : "flat envelope"} for ${parsed.jobId}${error}`;
}
