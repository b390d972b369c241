/**
 * The JobRunner (`internal/worker/job_runner.go`, contract sheet §4, §11) with a simulated executor:
 * take the per-job lock `job:processing:<jobspec_id>` (SETNX, 15 min), skip `completed` jobs,
 * mark the job `processing`, run every region × model (× question) "execution", store one row per
 * execution (a signed receipt on the container path; on the hybrid path Modal's receipt, or none with
 * an older Modal, and the answer in output_data), then mark the job `completed` (success rate ≥
 * min_success_rate) or `failed`. Regions are stored under the hybrid router's names.
 *
 * And the portal's cross-region path (`execution/cross_region_executor.go`): regions one after the
 * other, raw region codes, one row per model × question, portal receipts, the job `queued` until the
 * end.
 */
import { decode, ZERO_TIME, zeroOf, type Kind } from "./go-struct.ts";
import { sleep } from "./loop.ts";
import type { SandboxContext } from "./context.ts";
import type { EnvelopeHandler } from "./worker.ts";
import { buildReceipt, hybridFailure, hybridOutput, modalReceipt, portalReceipt, type RouterFailure, type SimulatedRun } from "./receipts.ts";
import { insertExecution } from "./store-executions.ts";
import { isQuestionIdMissing } from "../../shared/beacon/question-column.ts";
import { getJob, updateJobStatus } from "./store-jobs.ts";

const ENVELOPE: Kind = {
  t: "struct",
  fields: [
    { key: "id", kind: { t: "string" } },
    { key: "enqueued_at", kind: { t: "time" } },
    { key: "attempt", kind: { t: "int" } },
    { key: "request_id", kind: { t: "string" } },
  ],
};

const DEFAULT_MODEL = "llama3.2-1b";
const LOCK_TTL_SECONDS = 15 * 60;

interface StoredSpec {
  benchmark?: { name?: string; input?: { data?: Record<string, unknown> | null } };
  constraints?: { regions?: string[] | null; min_success_rate?: number };
  questions?: string[] | null;
  models?: { id: string; regions: string[] | null }[] | null;
  metadata?: { model_id?: string; model?: string; models?: unknown } | null;
}

/** Modal's text when it could not extract a response (`modal_hf_*.py`). */
export const MODAL_NO_ANSWER = "Response extraction failed";

/** `mapRegionToRouter` (`internal/worker/helpers.go:109-123`): exact codes, anything else to eu-west. */
export function routerRegion(region: string): string {
  switch (region) {
    case "US":
    case "us-east":
      return "us-east";
    case "EU":
    case "eu-west":
      return "eu-west";
    case "APAC":
    case "asia-pacific":
    case "ASIA":
      return "asia-pacific";
    default:
      return "eu-west";
  }
}

/** `extractModels` of the portal path (`single_region_executor.go:156-183`): metadata.models strings, else metadata.model. */
function portalModels(spec: StoredSpec): string[] {
  const list = Array.isArray(spec.metadata?.models) ? (spec.metadata.models as unknown[]).filter((m): m is string => typeof m === "string") : [];
  if (list.length > 0) return list;
  return [spec.metadata?.model || DEFAULT_MODEL];
}

/** The barrier's expected count: regions × questions × models listing the region (0 without models). */
function barrierExpected(spec: StoredSpec, regions: string[]): number {
  let expected = 0;
  for (const r of regions) for (const _q of spec.questions ?? []) for (const m of spec.models ?? []) if ((m.regions ?? []).includes(r)) expected++;
  return expected;
}

interface Unit {
  region: string;
  modelId: string;
  questionIds: string[];
}

function plan(spec: StoredSpec, regions: string[], perQuestion: boolean): Unit[] {
  // A model runs in the job's regions that it lists (the barrier's count, `job_runner.go`).
  const models = spec.models?.length
    ? spec.models.map((m) => ({ id: m.id, regions: regions.filter((r) => (m.regions ?? []).includes(r)) }))
    : [{ id: spec.metadata?.model_id || DEFAULT_MODEL, regions }];
  const questions = spec.questions ?? [];
  const units: Unit[] = [];
  for (const model of models) {
    for (const region of model.regions) {
      if (perQuestion && questions.length > 0) for (const q of questions) units.push({ region, modelId: model.id, questionIds: [q] });
      else units.push({ region, modelId: model.id, questionIds: questions });
    }
  }
  return units;
}

/** The queue path's handler, plus the cross-region path's in-process run of one job. */
export type JobRunner = EnvelopeHandler & {
  /**
   * `CrossRegionExecutor` in its goroutine (`handlers/cross_region_handlers.go:231-448`,
   * `execution/cross_region_executor.go`): runs the regions of a `queued` job one after the other,
   * outside the outbox and the queue, one row per model × question (`default` without questions) under
   * the region's raw code, and writes the job's status only at the end: `completed`, `failed`, or
   * `running` for good on a partial result; a plan error (fewer regions with a provider than
   * min_regions) writes nothing. Aborting `signal` is the process ending: the job stays `queued`.
   */
  crossRegion(jobspecId: string, request: { minRegions: number; minSuccessRate: number }, signal: AbortSignal): Promise<void>;
};

export function createJobRunner(ctx: SandboxContext): JobRunner {
  const { pool, redis, metrics, options } = ctx;
  const lockKey = (id: string) => `${options.redisKeyPrefix}job:processing:${id}`;

  /** Which router failure the switches inject for a region, if any. */
  const routerFault = (region: string): RouterFailure | undefined =>
    ctx.incidents.isOn(`region-down:${region}` as never) ? "http-502"
      : ctx.incidents.isOn(`router-timeout:${region}` as never) ? "timeout"
      : ctx.incidents.isOn(`router-hang:${region}` as never) ? "network"
      : ctx.incidents.isOn(`provider-missing:${region}` as never) ? "router-error" : undefined;

  const simulated = (jobspecId: string, spec: StoredSpec, region: string, modelId: string, questionIds: string[], startedAt: Date): SimulatedRun => {
    const prompt = spec.benchmark?.input?.data?.["prompt"];
    return {
      jobspecId, benchmarkName: spec.benchmark?.name ?? "", region, providerId: `modal-${region}`, modelId, questionIds,
      prompt: typeof prompt === "string" ? prompt : (spec.benchmark?.name ?? ""), startedAt, completedAt: new Date(),
      variant: ctx.incidents.isOn("legacy-text-output") ? "legacy-text" : ctx.nextVariant(),
    };
  };

  /** The call to the router: the inference time, or as long as the runner waits on a router that never answers. */
  const callRouter = async (fault: RouterFailure | undefined, signal: AbortSignal) => {
    // RunInference tries four inference paths; a router that never answers costs the client timeout on each.
    await sleep(fault === "network" ? options.routerClientTimeoutMs * 4 : options.executionDelayMs, signal);
  };

  /**
   * Beacon logs a failed execution insert and carries on, on both paths (`worker/job_runner.go:1066-1085`,
   * `handlers/cross_region_handlers.go:267-310`): on a schema without question_id (007 not applied)
   * every insert fails and jobs complete with no execution row, as seen on the real runner. Other
   * failures still throw: the sandbox's own faults are switched, not accidents.
   */
  const storeExecution = (row: Parameters<typeof insertExecution>[1]) => insertExecution(pool, row).catch((error: unknown) => {
    if (!isQuestionIdMissing(error)) throw error;
  });

  const execute = async (jobspecId: string, spec: StoredSpec, unit: Unit, last: boolean, signal: AbortSignal): Promise<void> => {
    const startedAt = new Date();
    const region = routerRegion(unit.region);
    const fault = routerFault(region);
    await callRouter(fault, signal);
    const run = simulated(jobspecId, spec, region, unit.modelId, unit.questionIds, startedAt);
    const questionId = unit.questionIds.length === 1 && options.executionGranularity === "per-question" ? unit.questionIds[0]! : null;
    if (fault) {
      // The router failed this unit: a failed row, provider_id "", the failure in output_data, no receipt; the job goes on.
      await storeExecution({
        jobspecId, providerId: "", region, status: "failed", startedAt, completedAt: new Date(),
        output: hybridFailure(run, fault, undefined, options.routerClientTimeoutMs / 1000), receipt: null, modelId: unit.modelId, questionId,
      });
      metrics.observe("runner_execution_duration_seconds", (Date.now() - startedAt.getTime()) / 1000, { region, status: "failed" });
      throw new Error(`hybrid execution failed: ${region}`);
    }
    const noAnswer = ctx.incidents.isOn(`modal-no-answer:${region}` as never) ? MODAL_NO_ANSWER : undefined;
    let receipt: Record<string, unknown> | null;
    let output: unknown;
    if (options.hybridPath) {
      receipt = options.hybridReceipt === "modal" ? modalReceipt(run, noAnswer) : null;
      output = hybridOutput(run, receipt, noAnswer);
    } else {
      receipt = buildReceipt(run, ctx.receiptKeys);
      if (ctx.incidents.isOn("undecodable-receipt")) {
        (receipt["execution_details"] as Record<string, unknown>)["duration"] = `${run.completedAt.getTime() - startedAt.getTime()}ms`;
      }
      output = receipt["output"];
    }
    const row = { jobspecId, providerId: run.providerId, region, status: "completed" as const, startedAt, completedAt: run.completedAt, output, receipt, modelId: unit.modelId, questionId };
    // Beacon logs a failed execution insert and carries on: the job can still complete.
    if (!(last && ctx.incidents.isOn("lost-answer"))) await storeExecution(row);
    if (ctx.incidents.isOn("duplicate-executions")) await storeExecution(row);
    metrics.observe("runner_execution_duration_seconds", (run.completedAt.getTime() - startedAt.getTime()) / 1000, { region, status: "completed" });
  };

  /** Beacon's barrier query, verbatim: `job_id` is INTEGER, the argument the string spec id; errors count 0. */
  const persistedCount = async (jobspecId: string): Promise<number> => {
    try {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT COUNT(*)::int AS n FROM executions WHERE job_id = $1 AND status NOT IN ('retrying', 'pending', 'running') AND completed_at IS NOT NULL`,
        [jobspecId],
      );
      return rows[0]?.n ?? 0;
    } catch {
      return 0;
    }
  };

  /** The `slow-worker` incident: hold the job in `processing` until the delay passes or the incident is cleared. */
  const slowWorkerPause = async (signal: AbortSignal) => {
    const until = Date.now() + options.slowWorkerDelayMs;
    while (ctx.incidents.isOn("slow-worker") && Date.now() < until) await sleep(Math.min(50, until - Date.now()), signal);
  };

  const crossRegion = async (id: string, request: { minRegions: number; minSuccessRate: number }, signal: AbortSignal) => {
    const job = await getJob(pool, id);
    if (!job) return;
    const spec = job.data as StoredSpec;
    await slowWorkerPause(signal);
    // A region is planned only when the router lists a provider for it; too few plans: an error, and the
    // goroutine returns without writing any status (the job stays queued).
    const asked = spec.constraints?.regions ?? [];
    const plans = asked.filter((raw) => !ctx.incidents.isOn(`provider-missing:${routerRegion(raw)}` as never));
    // The run's record (cross_region_handlers.go:194-210, written before the goroutine starts).
    const record = (await pool.query<{ id: string }>(
      `INSERT INTO cross_region_executions (jobspec_id, total_regions, min_regions_required, min_success_rate) VALUES ($1, $2, $3, $4) RETURNING id`,
      [id, asked.length, request.minRegions, request.minSuccessRate || 0.67])).rows[0]!.id;
    const runStart = Date.now();
    if (plans.length === 0 || plans.length < request.minRegions) {
      // The plan failed: the record reads failed, no region_results row, no job status (cross_region_handlers.go:331-343).
      await pool.query("UPDATE cross_region_executions SET status = 'failed', failure_count = total_regions, updated_at = NOW() WHERE id = $1", [record]);
      return;
    }
    const models = portalModels(spec);
    const questions = spec.questions?.length ? spec.questions : ["default"];
    let successRegions = 0;
    const results: { raw: string; region: string; startedAt: Date; ms: number; succeeded: number; failed: number }[] = [];
    for (const raw of plans) {
      const region = routerRegion(raw);
      const regionStart = new Date(); // every row of the region carries it as started_at and created_at
      let succeeded = 0;
      for (const model of models) {
        for (const question of questions) {
          const fault = routerFault(region);
          await callRouter(fault, signal);
          if (signal.aborted) return;
          const run = simulated(id, spec, region, model, [question], regionStart);
          const noAnswer = ctx.incidents.isOn(`modal-no-answer:${region}` as never) ? MODAL_NO_ANSWER : undefined;
          const receipt = fault ? null : portalReceipt(run, raw, noAnswer);
          if (!fault) succeeded++;
          await storeExecution({
            jobspecId: id, providerId: `modal-${region}`, region: raw, status: fault ? "failed" : "completed", startedAt: regionStart,
            completedAt: new Date(), createdAt: regionStart, output: receipt ? (receipt["output"] as { data: unknown }).data : null, receipt,
            modelId: model, questionId: question,
          });
        }
      }
      if (succeeded > 0) successRegions++;
      results.push({ raw, region, startedAt: regionStart, ms: Date.now() - regionStart.getTime(), succeeded, failed: models.length * questions.length - succeeded });
    }
    if (signal.aborted) return;
    const run = successRegions >= request.minRegions
      ? successRegions / plans.length >= (request.minSuccessRate || 0.67) ? "completed" : "partial"
      : "failed";
    // Each planned region's result, in Beacon's words: success, or failed "all executions failed" (cross_region_executor.go:449-463).
    await pool.query("UPDATE cross_region_executions SET status = $2, success_count = $3, failure_count = $4, completed_at = NOW(), duration_ms = $5, updated_at = NOW() WHERE id = $1",
      [record, run, successRegions, plans.length - successRegions, Date.now() - runStart]);
    for (const r of results) {
      await pool.query(
        `INSERT INTO region_results (cross_region_execution_id, region, provider_id, status, started_at, completed_at, duration_ms, error_message, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [record, r.raw, `modal-${r.region}`, r.succeeded > 0 ? "success" : "failed", r.startedAt.toISOString(), new Date(r.startedAt.getTime() + r.ms).toISOString(), r.ms,
          r.succeeded > 0 ? "" : "all executions failed", JSON.stringify({ success_count: r.succeeded, failure_count: r.failed, total_executions: r.succeeded + r.failed })]);
    }
    // A partial run leaves the job running for good (cross_region_handlers.go:430-448).
    await updateJobStatus(pool, id, run === "partial" ? "running" : run);
  };

  const handler: EnvelopeHandler = async (payload, signal) => {
    let envelope: { id: string; enqueued_at: string };
    try {
      envelope = decode(ENVELOPE, JSON.parse(payload), zeroOf(ENVELOPE), "jobEnvelope") as typeof envelope;
    } catch (error) {
      throw new Error(`invalid envelope: ${error instanceof Error ? error.message : String(error)}`);
    }
    const id = envelope.id;
    const locked = await redis.set(lockKey(id), "1", "EX", LOCK_TTL_SECONDS, "NX");
    if (locked === null) return; // another runner holds this job
    try {
      const job = await getJob(pool, id);
      if (!job) throw new Error(`get job: job not found: ${id}`);
      if (job.status === "completed") return;
      await updateJobStatus(pool, id, "processing");
      const spec = job.data as StoredSpec;
      const regions = spec.constraints?.regions ?? [];
      if (regions.length === 0) {
        await updateJobStatus(pool, id, "failed");
        throw new Error("no regions in job constraints");
      }
      if (envelope.enqueued_at !== ZERO_TIME) {
        const latency = (Date.now() - Date.parse(envelope.enqueued_at)) / 1000;
        metrics.observe("runner_queue_latency_seconds", Math.max(0, latency), { region: regions[0]! });
      }
      await slowWorkerPause(signal);
      const units = plan(spec, regions, options.executionGranularity === "per-question");
      const outcomes = await Promise.allSettled(units.map((unit, i) => execute(id, spec, unit, i === units.length - 1, signal)));
      if (signal.aborted) throw signal.reason;
      const failures = outcomes.filter((o) => o.status === "rejected");
      if (failures.length > 0) metrics.inc("runner_failures_total", { region: "unknown", error_type: "unknown", component: "executor" }, failures.length);
      const successRate = units.length === 0 ? 0 : (units.length - failures.length) / units.length;
      const status = successRate >= (spec.constraints?.min_success_rate || 0.67) ? "completed" : "failed";
      if (status === "completed" && options.strictCompletionBarrier && (await persistedCount(id)) < barrierExpected(spec, regions)) {
        await updateJobStatus(pool, id, "finalizing"); // nothing in Beacon moves it on
        return;
      }
      await updateJobStatus(pool, id, status);
      metrics.inc(status === "completed" ? "jobs_processed_total" : "jobs_failed_total");
      const firstError = failures[0];
      if (status === "failed" && firstError) throw new Error(`multi-region execution failed: ${String(firstError.reason)}`);
    } finally {
      // A process that dies mid-run leaves its 15-minute lock behind (a restart or close aborts the signal).
      if (!signal.aborted) await redis.del(lockKey(id));
    }
  };
  return Object.assign(handler, { crossRegion });
}
