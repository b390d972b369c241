/**
 * The JobRunner (`internal/worker/job_runner.go`, contract sheet §4) with a simulated executor:
 * take the per-job lock `job:processing:<jobspec_id>` (SETNX, 15 min), skip `completed` jobs,
 * mark the job `processing`, run every region × model (× question) "execution", store one signed
 * receipt per execution row, then mark the job `completed` (success rate ≥ min_success_rate) or
 * `failed`. Regions are stored under the hybrid router's names (us-east, eu-west, asia-pacific).
 */
import { decode, ZERO_TIME, zeroOf, type Kind } from "./go-struct.ts";
import { sleep } from "./loop.ts";
import type { SandboxContext } from "./context.ts";
import type { EnvelopeHandler } from "./worker.ts";
import { buildReceipt, hybridFailure, hybridOutput, routerRegion, type RouterFailure, type SimulatedRun } from "./receipts.ts";
import { insertExecution } from "./store-executions.ts";
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
  metadata?: { model_id?: string } | null;
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
   * `CrossRegionExecutor` in its goroutine (`handlers/cross_region_handlers.go`): runs every region ×
   * model (× question) of a `queued` job outside the outbox and the queue, leaves the job `queued`
   * while it runs and writes `completed`/`failed` at the end. Aborting `signal` is the process ending:
   * nothing more is written, and the job stays `queued` for ever.
   */
  crossRegion(jobspecId: string, minSuccessRate: number, signal: AbortSignal): Promise<void>;
};

export function createJobRunner(ctx: SandboxContext): JobRunner {
  const { pool, redis, metrics, options } = ctx;
  const lockKey = (id: string) => `${options.redisKeyPrefix}job:processing:${id}`;

  const execute = async (jobspecId: string, spec: StoredSpec, unit: Unit, last: boolean, signal: AbortSignal): Promise<void> => {
    const startedAt = new Date();
    await sleep(options.executionDelayMs, signal);
    const region = routerRegion(unit.region);
    const prompt = spec.benchmark?.input?.data?.["prompt"];
    const run: SimulatedRun = {
      jobspecId,
      benchmarkName: spec.benchmark?.name ?? "",
      region,
      providerId: `modal-${region}`,
      modelId: unit.modelId,
      questionIds: unit.questionIds,
      prompt: typeof prompt === "string" ? prompt : (spec.benchmark?.name ?? ""),
      startedAt,
      completedAt: new Date(),
      variant: ctx.incidents.isOn("legacy-text-output") ? "legacy-text" : ctx.nextVariant(),
    };
    const failure: RouterFailure | undefined = ctx.incidents.isOn(`region-down:${region}` as never) ? "http-502"
      : ctx.incidents.isOn(`router-timeout:${region}` as never) ? "timeout" : undefined;
    if (failure) {
      // The router failed this region: a failed row with the failure in output_data, no receipt; the job goes on.
      await insertExecution(pool, {
        jobspecId, providerId: run.providerId, region, status: "failed", startedAt, completedAt: new Date(),
        output: hybridFailure(run, failure), receipt: null, modelId: unit.modelId, technicalError: true,
        questionId: unit.questionIds.length === 1 && options.executionGranularity === "per-question" ? unit.questionIds[0]! : null,
      });
      metrics.observe("runner_execution_duration_seconds", (Date.now() - startedAt.getTime()) / 1000, { region, status: "failed" });
      throw new Error(`${region}: ${failure === "timeout" ? "ROUTER_TIMEOUT" : "ROUTER_HTTP_502"}`);
    }
    const receipt = options.hybridPath ? null : buildReceipt(run, ctx.receiptKeys);
    if (receipt && ctx.incidents.isOn("undecodable-receipt")) {
      (receipt["execution_details"] as Record<string, unknown>)["duration"] = `${run.completedAt.getTime() - startedAt.getTime()}ms`;
    }
    const row = {
      jobspecId,
      providerId: run.providerId,
      region,
      status: "completed" as const,
      startedAt,
      completedAt: run.completedAt,
      output: receipt ? receipt["output"] : hybridOutput(run),
      receipt,
      modelId: unit.modelId,
      questionId: unit.questionIds.length === 1 && options.executionGranularity === "per-question" ? unit.questionIds[0]! : null,
    };
    // Beacon logs a failed execution insert and carries on: the job can still complete.
    if (!(last && ctx.incidents.isOn("lost-answer"))) await insertExecution(pool, row);
    if (ctx.incidents.isOn("duplicate-executions")) await insertExecution(pool, row);
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

  const crossRegion = async (id: string, minSuccessRate: number, signal: AbortSignal) => {
    const job = await getJob(pool, id);
    if (!job) return;
    const spec = job.data as StoredSpec;
    const regions = spec.constraints?.regions ?? [];
    await slowWorkerPause(signal);
    const units = plan(spec, regions, options.executionGranularity === "per-question");
    if (signal.aborted) return;
    const outcomes = await Promise.allSettled(units.map((unit, i) => execute(id, spec, unit, i === units.length - 1, signal)));
    if (signal.aborted) return;
    const failures = outcomes.filter((o) => o.status === "rejected").length;
    const successRate = units.length === 0 ? 0 : (units.length - failures) / units.length;
    await updateJobStatus(pool, id, successRate >= (minSuccessRate || 0.67) ? "completed" : "failed");
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
      await redis.del(lockKey(id));
    }
  };
  return Object.assign(handler, { crossRegion });
}
