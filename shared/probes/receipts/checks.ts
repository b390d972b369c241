import { check, type Check } from "../../result.ts";
import { ApiError, servedExecutions, type ExecutionsPage, type JobDetailsEnvelope, type JobList, type ServedExecution } from "../../beacon/api.ts";
import { outputVariant } from "../../beacon/receipt.ts";
import { excerpt } from "../../http.ts";
import type { JsonRead } from "./fetch.ts";
import { judgeReceipt } from "./judge.ts";
import type { ReceiptsSettings } from "./settings.ts";
import type { JobAnswersVerdict } from "./answers.ts";
import { QUESTION_ID_CONSEQUENCE, QUESTION_ID_MISSING } from "../../beacon/question-column.ts";

/** One job whose details (with receipts) were requested. */
export interface JobRead {
  id: string;
  read: JsonRead<JobDetailsEnvelope>;
  /** The job's questions, from the JobSpec when it validated. */
  questions: string[] | null;
  /** Why the stored JobSpec does not validate, if it does not. */
  specProblems: string[];
}

const line = (text: string) => excerpt(text, 300);

export function executionsCheck(execs: JsonRead<ExecutionsPage>): Check {
  const threshold = "2xx {executions, limit, offset, total}";
  if (!execs.ok) {
    const wrongShape = execs.failure === "shape" || execs.failure === "not-json";
    const incident = wrongShape || (execs.failure === "http" && Number(execs.observed) >= 500) ? " (the executions-API incident)" : "";
    return check({ name: "executions-api", status: "fail", observed: execs.observed, threshold, message: `${execs.message}${incident}`, evidence: [line(execs.message)] });
  }
  const n = execs.value.executions?.length ?? 0;
  return check({ name: "executions-api", status: "pass", observed: execs.status, threshold,
    message: `${execs.shown}: ${n} executions listed, ${execs.value.total} in total` });
}

/**
 * `questionIdMissing`: the job-answers statement found Beacon's database without executions.question_id,
 * which is why Beacon's `?include=executions` answers 500 (its query names the column): said beside each 5xx.
 */
export function jobsApiCheck(jobs: JsonRead<JobList>, reads: JobRead[], questionIdMissing = false): Check {
  const problems: string[] = [];
  if (!jobs.ok) problems.push(`${jobs.message}${hint(jobs)}`);
  for (const r of reads) {
    const cause = questionIdMissing && !r.read.ok && r.read.failure === "http" && Number(r.read.observed) >= 500
      ? ` (${QUESTION_ID_MISSING}: Beacon's executions read names the column, ra/internal/api/handlers_simple.go:266)` : "";
    if (!r.read.ok && r.read.failure !== "too-large") problems.push(`job ${r.id}: ${r.read.message}${hint(r.read)}${cause}`);
    if (r.specProblems.length) problems.push(`job ${r.id}: stored JobSpec invalid (${r.specProblems.join("; ")})`);
  }
  const total = 1 + reads.length;
  if (problems.length > 0) {
    return check({ name: "jobs-api", status: "fail", observed: problems.length, threshold: "0 failed reads",
      message: `${problems.length} of ${total} job API reads failed: ${problems[0]}`, evidence: problems.map(line) });
  }
  return check({ name: "jobs-api", status: "pass", observed: 0, threshold: "0 failed reads",
    message: `job list (${jobs.ok ? (jobs.value.jobs?.length ?? 0) : 0} jobs) and ${reads.length} job details read` });
}

/** Beacon's database-less mode answers `503 {"error":"persistence unavailable"}`: say so. */
function hint(read: JsonRead<unknown>): string {
  if (read.ok || read.failure !== "http") return "";
  return ApiError.safeParse(read.json).data?.error === "persistence unavailable" ? " (Beacon runs without its database)" : "";
}

export function idMappingCheck(jobs: JsonRead<JobList>, reads: JobRead[]): Check {
  const offenders: string[] = [];
  let listed = 0;
  if (jobs.ok) {
    (jobs.value.jobs ?? []).forEach((j, i) => {
      listed++;
      if (j.id !== "") return;
      const spec = typeof j["jobspec_id"] === "string" && j["jobspec_id"] ? `, jobspec_id ${j["jobspec_id"]}` : "";
      offenders.push(`jobs[${i}] (status ${j.status}, created ${j.created_at}${spec}): empty id in the job list`);
    });
  }
  let detailed = 0;
  for (const r of reads) {
    if (!r.read.ok) continue;
    detailed++;
    const { id = "", jobspec_id: specId = "" } = r.read.value.job;
    if (id === "") offenders.push(`job ${r.id}: job.id is empty in the job details (jobspec_id "${specId}")`);
    else if (specId !== "" && id !== specId) offenders.push(`job ${r.id}: job.id "${id}" differs from job.jobspec_id "${specId}"`);
    else if (id !== r.id) offenders.push(`job ${r.id}: job.id "${id}" is not the id it was fetched by`);
  }
  if (!jobs.ok && detailed === 0) {
    return check({ name: "id-mapping", status: "error", observed: null, threshold: "0 empty or mismatched ids",
      message: "not measured: neither the job list nor any job details could be read" });
  }
  const status = offenders.length > 0 ? "fail" : "pass";
  const message = offenders.length > 0
    ? `${offenders.length} jobs carry an empty or wrong id (the empty-id incident): ${offenders[0]}`
    : `${listed} job list entries and ${detailed} job details carry their jobspec id`;
  return check({ name: "id-mapping", status, observed: offenders.length, threshold: "0 empty or mismatched ids", message, evidence: offenders.map(line) });
}

/** Execution id, region and status by receipt id, from the executions page: for evidence. */
export type ExecutionIndex = Map<string, { id: number; region: string }>;

/** Row statuses of an execution still on its way (a user retry, or not yet run): not judged yet. */
const IN_FLIGHT = new Set(["retrying", "pending", "running"]);

/**
 * `sourcesRead`: whether the job list or the executions page could be read to find jobs at all.
 * `answersJudged`: answers the job-answers check judged from the database this run (0 when it could not).
 *
 * Beacon serves every execution row with its receipt as stored (classic, Modal or portal), or none: a
 * completed row without one keeps its answer in `output_data` (judged by job-answers), a failed row is
 * the runner's failure (job-answers and regions name its cause), a `retrying` row is in flight. Only
 * the receipts served are judged here, each by the contract of its own shape.
 */
export function receiptsCheck(reads: JobRead[], executions: ExecutionIndex, s: ReceiptsSettings, sourcesRead: boolean, candidatesNote: string, answersJudged = 0): Check {
  const threshold = "0 receipts breaking the contract";
  const readable = reads.filter((r) => r.read.ok || r.read.failure === "too-large");
  if (reads.length === 0 && !sourcesRead) {
    return check({ name: "receipts", status: "error", observed: null, threshold, message: "not measured: neither the job list nor the executions page could be read" });
  }
  if (reads.length === 0) {
    return check({ name: "receipts", status: "pass", observed: 0, threshold, message: `no jobs to judge: ${candidatesNote}` });
  }
  if (readable.length === 0) {
    return check({ name: "receipts", status: "error", observed: null, threshold, message: "not measured: no job details could be read (see jobs-api)" });
  }
  const offenders: string[] = [];
  const kinds = { direct: 0, nested: 0, modal: 0, portal: 0 };
  const rules = { placeholderPrefixes: s.placeholderPrefixes, nonAnswers: s.nonAnswers };
  let receipts = 0;
  let withoutReceipts = 0;
  const rows = { noReceipt: 0, failed: 0, inFlight: 0 };
  for (const r of readable) {
    if (!r.read.ok) {
      offenders.push(`job ${r.id}: ${r.read.message}`);
      continue;
    }
    const served = servedExecutions(r.read.value.executions);
    let judgedHere = 0;
    for (const entry of served) {
      const row = entry.row;
      if (row && IN_FLIGHT.has(row.status ?? "")) {
        rows.inFlight++;
        continue;
      }
      if (row && row.status !== "completed" && entry.receipt === null) {
        rows.failed++;
        continue;
      }
      if (entry.receipt === null) {
        rows.noReceipt++;
        continue;
      }
      receipts++;
      judgedHere++;
      const questions = row?.question_id && (r.questions ?? []).includes(row.question_id) ? [row.question_id] : r.questions;
      const verdict = judgeReceipt(entry.receipt, { id: r.id, questions }, rules);
      if (verdict.problems.length === 0) {
        if (verdict.kind === "classic") kinds[outputVariant(entry.receipt) === "nested" ? "nested" : "direct"]++;
        else if (verdict.kind === "modal" || verdict.kind === "portal") kinds[verdict.kind]++;
        continue;
      }
      offenders.push(`job ${r.id} ${where(entry, verdict, executions)}: ${verdict.problems.join("; ")}`);
    }
    if (judgedHere === 0) withoutReceipts++;
  }
  const skipped = reads.length - readable.length;
  const notes = [
    withoutReceipts ? `${withoutReceipts} jobs without receipts` : "",
    rows.noReceipt ? `${rows.noReceipt} completed rows without a receipt (answer in output_data)` : "",
    rows.failed ? `${rows.failed} failed rows (causes in job-answers and regions)` : "",
    rows.inFlight ? `${rows.inFlight} rows in flight (retrying, pending or running)` : "",
    skipped ? `${skipped} jobs unreadable (see jobs-api)` : "",
  ].filter(Boolean).join(", ");
  const tail = notes ? ` (${notes})` : "";
  if (offenders.length > 0) {
    return check({ name: "receipts", status: "fail", observed: offenders.length, threshold,
      message: `${offenders.length} receipts of ${readable.length} jobs break the receipt contract${tail}: ${offenders[0]}`, evidence: offenders.map(line) });
  }
  if (receipts === 0) {
    // The hybrid path with an older Modal stores no receipt (receipt_data NULL, the answer in output_data):
    // a pass here would be a pass that judged nothing.
    if (answersJudged > 0) {
      return check({ name: "receipts", status: "pass", observed: 0, threshold,
        message: `no receipts served for ${readable.length} jobs (receipt_data NULL, as on the hybrid path with an older Modal); ${answersJudged} answers judged from Beacon's database instead (job-answers)${tail}` });
    }
    return check({ name: "receipts", status: "error", observed: null, threshold,
      message: `blind: ?include=executions served no receipt for ${readable.length} completed jobs, and no answer was judged from the database (on the hybrid path the answers sit in output_data: set BEACON_DATABASE_URL)${tail}`,
      evidence: readable.map((r) => `job ${r.id}: no receipts`) });
  }
  const shapes = Object.entries(kinds).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
  return check({ name: "receipts", status: "pass", observed: 0, threshold,
    message: `${receipts} receipts of ${readable.length} jobs valid (${shapes})${tail}` });
}

/** How an offending receipt is named: its execution row when Beacon served one, else its receipt id. */
function where(entry: ServedExecution, verdict: { receiptId?: string; region?: string }, executions: ExecutionIndex): string {
  const row = entry.row;
  if (row) {
    const unit = [row.region, row.model_id, row.question_id].filter((x) => x !== null && x !== undefined && x !== "").join(" / ");
    return `execution ${row.id}${verdict.receiptId ? ` (receipt ${verdict.receiptId}, ${unit})` : ` (${unit})`}`;
  }
  const execution = verdict.receiptId ? executions.get(verdict.receiptId) : undefined;
  return execution
    ? `execution ${execution.id} (receipt ${verdict.receiptId}, ${execution.region})`
    : verdict.receiptId ? `receipt ${verdict.receiptId}${verdict.region ? ` (${verdict.region})` : ""}` : `receipts[${entry.index}]`;
}

/**
 * job-answers: each recently finished job against its JobSpec, from Beacon's database (see answers.ts).
 * Fails on a missing answer, an answer without real question text, duplicate executions or a completed
 * job with no executions; `error` when it could not read the database or judged nothing over N jobs.
 */
export function jobAnswersCheck(read: { ok: true; verdict: JobAnswersVerdict; questionIdMissing?: boolean } | { ok: false; message: string }, windowNote: string): Check {
  const threshold = "0 missing, empty or duplicated answers";
  if (!read.ok) return check({ name: "job-answers", status: "error", observed: null, threshold, message: read.message });
  const v = read.verdict;
  // Without 007 the runner can store no execution: a missing answer is that, and nothing judged is blind.
  if (read.questionIdMissing) return withoutQuestionId(v, windowNote, threshold);
  if (v.jobs === 0) return check({ name: "job-answers", status: "pass", observed: 0, threshold, message: `no jobs to judge: ${windowNote}` });
  const underivable = v.underivable.length ? `, ${v.underivable.length} without regions in their JobSpec (${v.underivable.slice(0, 3).join(", ")})` : "";
  const causes = Object.entries(v.causes).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([code, n]) => `${code} ×${n}`).join(", ");
  const failed = v.failedExecutions ? `, ${v.failedExecutions} failed executions (${causes})` : "";
  const moving = `${v.inFlight ? `, ${v.inFlight} in flight (retrying, pending or running)` : ""}${v.absent ? `, ${v.absent} never written by runs that did not complete` : ""}`;
  const present = v.judged - v.failedExecutions - v.inFlight - v.absent;
  if (v.findings.length > 0) {
    return check({ name: "job-answers", status: "fail", observed: v.findings.length, threshold,
      message: `${v.findings.length} problems in ${v.jobs} jobs (${v.judged} expected answers judged${failed}${moving}${underivable}): ${v.findings[0]}`,
      evidence: [...v.findings, ...v.failures].map(line) });
  }
  if (v.judged === 0) {
    return check({ name: "job-answers", status: "error", observed: null, threshold,
      message: `blind: judged no answer over ${v.jobs} jobs${underivable}`, evidence: v.underivable.map((id) => `job ${id}: no regions in the stored JobSpec`) });
  }
  if (v.failedExecutions > 0 || v.absent > 0) {
    // The runner's own failures, named with its cause: not a broken answer (the regions probe judges rates).
    return check({ name: "job-answers", status: "warn", observed: v.failedExecutions + v.absent, threshold,
      message: `${present} of ${v.judged} expected answers of ${v.jobs} jobs present${failed}${moving}${underivable}: ${v.failures[0]}`,
      evidence: v.failures.map(line) });
  }
  return check({ name: "job-answers", status: "pass", observed: 0, threshold,
    message: `${v.judged} expected answers of ${v.jobs} jobs present, with question text${moving}${underivable}` });
}

/**
 * job-answers on a database without executions.question_id (question-column.ts): rows that exist (a runner
 * that writes without the column) are judged as usual, per region; jobs without their executions fail
 * with the cause named; with nothing to judge the check is blind, not green.
 */
function withoutQuestionId(v: JobAnswersVerdict, windowNote: string, threshold: string): Check {
  const cause = `${QUESTION_ID_MISSING}: ${QUESTION_ID_CONSEQUENCE}`;
  if (v.findings.length > 0 || v.absent > 0) {
    const problems = [...v.findings, ...v.failures.filter((f) => f.includes("never written"))];
    return check({ name: "job-answers", status: "fail", observed: problems.length, threshold,
      message: `${QUESTION_ID_MISSING}: ${problems.length} problems in ${v.jobs} jobs (${v.judged} expected answers judged): ${problems[0]}`,
      evidence: [cause, ...v.findings, ...v.failures].map(line) });
  }
  if (v.judged === 0) {
    return check({ name: "job-answers", status: "error", observed: null, threshold,
      message: `blind: ${QUESTION_ID_MISSING}, and no answer to judge (${v.jobs === 0 ? windowNote : `judged no answer over ${v.jobs} jobs`})`, evidence: [line(cause)] });
  }
  const failed = v.failedExecutions ? `, ${v.failedExecutions} failed executions` : "";
  return check({ name: "job-answers", status: v.failedExecutions ? "warn" : "pass", observed: v.failedExecutions, threshold,
    message: `${v.judged - v.failedExecutions - v.inFlight - v.absent} of ${v.judged} expected answers of ${v.jobs} jobs present${failed}, judged per region: ${QUESTION_ID_MISSING}, yet executions were stored`,
    evidence: [cause, ...v.failures].map(line) });
}
