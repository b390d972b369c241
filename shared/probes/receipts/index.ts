import { check } from "../../result.ts";
import { ExecutionsPage, JobDetailsEnvelope, JobList } from "../../beacon/api.ts";
import { JobSpec } from "../../beacon/jobspec.ts";
import { RECEIPTS } from "./definition.ts";
import type { Probe, ProbeContext } from "../types.ts";
import { readJson, type JsonRead } from "./fetch.ts";
import { describe } from "./judge.ts";
import { executionsCheck, idMappingCheck, jobAnswersCheck, jobsApiCheck, receiptsCheck, type ExecutionIndex, type JobRead } from "./checks.ts";
import { judgeJobAnswers } from "./answers.ts";
import { queryJobAnswers } from "./answers-sql.ts";
import { ReceiptsSettings } from "./settings.ts";

type Ctx = ProbeContext<ReceiptsSettings>;

/** The checks this probe reports, always all of them, in this order. */
export const RECEIPT_CHECKS = ["executions-api", "jobs-api", "id-mapping", "receipts", "job-answers"] as const;

/**
 * Beacon's read API and the receipts it serves: the executions page, the job list, and the details
 * (with receipts) of the newest completed jobs. At most 2 + maxJobs GETs per run (7 by default), never
 * an /admin route (those share a 1-per-10-s rate limit).
 */
export const receiptsProbe: Probe<ReceiptsSettings> & typeof RECEIPTS = {
  ...RECEIPTS,
  async run(ctx) {
    const { apiUrl } = ctx.targets;
    if (!apiUrl) {
      return { checks: RECEIPT_CHECKS.map((name) => check({ name, status: "error", observed: null, threshold: null, message: "not measured: BEACON_API_URL is not set" })) };
    }
    const s = ctx.settings;
    const { routes } = ctx.beacon;
    const at = (path: string) => new URL(path, apiUrl).href;
    const list = { timeoutMs: s.requestTimeoutMs, maxBytes: s.maxListBytes };
    const [execs, jobs, answers] = await Promise.all([
      readJson(ctx, at(`${routes.executions}?limit=${s.executionsLimit}&offset=0`), ExecutionsPage, list),
      readJson(ctx, at(`${routes.jobs}?limit=${s.jobListLimit}`), JobList, list),
      readAnswers(ctx),
    ]);
    const { ids, note } = pickJobs(ctx, execs, jobs);
    const reads = await Promise.all(
      ids.map((id) => readJob(ctx, id, at(`${routes.jobs}/${encodeURIComponent(id)}?include=executions&exec_limit=${s.receiptsPerJob}`))),
    );
    return {
      checks: [
        executionsCheck(execs),
        jobsApiCheck(jobs, reads, answers.ok && answers.questionIdMissing),
        idMappingCheck(jobs, reads),
        receiptsCheck(reads, executionIndex(execs), s, execs.ok || jobs.ok, note, answers.ok ? answers.verdict.judged : 0),
        jobAnswersCheck(answers, `no ${s.answerStatuses.join("/")} jobs updated in the last ${s.lookbackHours} h`),
      ],
    };
  },
};

/**
 * The newest jobs to judge: completed jobs from the job list first, then jobs of completed executions
 * with a receipt (which still names jobs when the list's ids are empty), created within the lookback.
 */
function pickJobs(ctx: Ctx, execs: JsonRead<ExecutionsPage>, jobs: JsonRead<JobList>): { ids: string[]; note: string } {
  const s = ctx.settings;
  const cutoff = ctx.deps.now().getTime() - s.lookbackHours * 3_600_000;
  const recent = (time: string) => {
    const ms = Date.parse(time);
    return Number.isNaN(ms) || ms >= cutoff;
  };
  const ids: string[] = [];
  for (const j of jobs.ok ? (jobs.value.jobs ?? []) : []) {
    if (j.id !== "" && s.completedStatuses.includes(j.status) && recent(j.created_at)) ids.push(j.id);
  }
  for (const e of execs.ok ? (execs.value.executions ?? []) : []) {
    if (e.job_id !== "" && e.status === "completed" && e.receipt_id !== "" && recent(e.created_at)) ids.push(e.job_id);
  }
  const unique = [...new Set(ids)].slice(0, s.maxJobs);
  const listed = jobs.ok ? (jobs.value.jobs?.length ?? 0) : 0;
  return { ids: unique, note: `no ${s.completedStatuses.join("/")} jobs created in the last ${s.lookbackHours} h among ${listed} listed` };
}

async function readJob(ctx: Ctx, id: string, url: string): Promise<JobRead> {
  const read = await readJson(ctx, url, JobDetailsEnvelope, { timeoutMs: ctx.settings.requestTimeoutMs, maxBytes: ctx.settings.maxDetailsBytes });
  if (!read.ok) return { id, read, questions: null, specProblems: [] };
  const spec = JobSpec.safeParse(read.value.job);
  if (spec.success) return { id, read, questions: spec.data.questions ?? null, specProblems: [] };
  const raw = read.value.job["questions"];
  const questions = Array.isArray(raw) ? raw.filter((q): q is string => typeof q === "string") : null;
  return { id, read, questions, specProblems: describe(spec.error) };
}

function executionIndex(execs: JsonRead<ExecutionsPage>): ExecutionIndex {
  const index: ExecutionIndex = new Map();
  for (const e of execs.ok ? (execs.value.executions ?? []) : []) {
    if (e.receipt_id) index.set(e.receipt_id, { id: e.id, region: e.region });
  }
  return index;
}

/** The job-answers statement, judged; never throws (a database error is the check's `error`). */
async function readAnswers(ctx: Ctx) {
  const { sql } = ctx.deps;
  const label = ctx.targets.databaseLabel ?? "database";
  if (!sql) return { ok: false as const, message: "not measured: BEACON_DATABASE_URL is not set (answers on the hybrid path live only in the database)" };
  const s = ctx.settings;
  try {
    const { rows, questionIdMissing } = await queryJobAnswers(sql, ctx.beacon.tables, {
      statuses: s.answerStatuses, lookbackSeconds: s.lookbackHours * 3600, maxJobs: s.answerJobs, maxRows: s.answerMaxRows, nonAnswers: s.nonAnswers,
    });
    // At the row cap the last job may be cut short: leave it whole for the next run rather than see gaps.
    const last = rows.at(-1)?.jobspec_id;
    const whole = rows.length >= s.answerMaxRows && rows.some((r) => r.jobspec_id !== last) ? rows.filter((r) => r.jobspec_id !== last) : rows;
    return { ok: true as const, questionIdMissing, verdict: judgeJobAnswers(whole, {
      placeholderPrefixes: s.placeholderPrefixes, regions: ctx.beacon.regions, routerClientTimeoutSeconds: ctx.beacon.runner.routerClientTimeoutSeconds,
    }) };
  } catch (error) {
    return { ok: false as const, message: `${label}: could not measure: ${error instanceof Error ? error.message : String(error)}` };
  }
}
