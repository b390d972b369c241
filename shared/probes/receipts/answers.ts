/**
 * Per-job judgement of what Beacon stored against what the JobSpec asked for (contract sheet §4, §10,
 * §11): one execution per region × model × question (the per-question path: the worker, the hybrid
 * router and the portal's cross-region path), or one per region × model answering every question (the
 * older multi-question receipt). The answer is read where each path keeps it: a classic receipt's
 * `responses[]`, a Modal receipt's `output.response`, a portal receipt's `output.data.response`, else
 * `output_data.response` (hybrid path with an older Modal, `receipt_data` NULL). A failed execution is
 * judged as a failure with the runner's own cause (`output_data.failure`), never as a malformed
 * answer; a `retrying` one is in flight. Pure: the rows come from answers-sql.ts.
 */
import { routerRegion, type RegionNames } from "../../beacon/regions.ts";

/** One answer as reduced in SQL: never the whole response text, only its length. */
export interface StoredAnswer {
  q: string | null;
  /** The question text, cut to 120 characters. */
  question: string | null;
  /** Characters of the trimmed response. */
  chars: number | null;
  success: unknown;
  error: string | null;
}

/** The portal path's record of a run (`cross_region_executions` and its `region_results`). */
export interface PortalRunRecord {
  status: string;
  regions: { region: string; status: string; error: string | null; ms: number | null }[] | null;
}

/** One row of the job-answers statement: a job, and one of its executions (all null when it has none). */
export interface JobAnswerRow {
  jobspec_id: string;
  /** A portal job's run record (null: not a portal job, or the record is gone). */
  portal_record?: PortalRunRecord | null;
  status: string;
  regions: unknown;
  models: unknown;
  /** `metadata.models` of the spec: strings or `{id}` (the portal sends strings). */
  metadata_models?: unknown;
  questions: unknown;
  /** `metadata.model_id` of the spec: the worker's single model. */
  spec_model: unknown;
  /** `metadata.model` of the spec: the portal path's single model. */
  spec_model_alt?: unknown;
  execution_id: number | null;
  region: string | null;
  model_id: string | null;
  question_id: string | null;
  execution_status: string | null;
  /** Where the answer was read: the receipt, else output_data; null when both are NULL. */
  source: "receipt" | "output" | null;
  /** The receipt's shape (receipt source only). */
  receipt_kind?: "modal" | "portal" | "classic" | "legacy-text" | "unknown" | null;
  answers: StoredAnswer[] | null;
  /** The single answer (Modal `output.response`, portal `output.data.response`, else `output_data.response`): its trimmed length. */
  output_chars: number | null;
  /** The single answer is a known non-answer (Modal's "Response extraction failed"). */
  non_answer?: boolean | null;
  legacy_text: boolean | null;
  /** A failed row's cause, as the runner recorded it in output_data. */
  failure_code?: string | null;
  failure_type?: string | null;
  failure_stage?: string | null;
  failure_message?: string | null;
  /** completed_at - started_at, seconds. */
  duration_s?: number | null;
}

export interface JobAnswersVerdict {
  jobs: number;
  /** Expected answers that were judged (found, failed, in flight or missing). */
  judged: number;
  /** Jobs whose JobSpec named no region, so nothing could be expected of them. */
  underivable: string[];
  findings: string[];
  /** Expected answers whose execution failed (Beacon completes a job within min_success_rate). */
  failedExecutions: number;
  /** Each failed expected answer with the runner's cause: `job <id> execution <n> (<unit>): <cause>`. */
  failures: string[];
  /** Failed expected answers by the runner's failure code ("no cause stored" when it recorded none). */
  causes: Record<string, number>;
  /** Expected answers whose execution is `retrying`, `pending` or `running`: in flight, not failed. */
  inFlight: number;
  /**
   * Expected answers of a job that did not complete (failed, or a portal run left `running`) with no row
   * at all: the run never wrote it (cut by its region timeout, or its insert lost). Named among `failures`.
   */
  absent: number;
}

/** Beacon's default model when the spec names none (`executeSingleRegion`, `extractModels`). */
export const DEFAULT_MODEL = "llama3.2-1b";

const IN_FLIGHT = new Set(["retrying", "pending", "running"]);

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string" && v !== "") : []);
const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);

type SpecRow = Pick<JobAnswerRow, "regions" | "models" | "spec_model"> & Partial<Pick<JobAnswerRow, "metadata_models" | "spec_model_alt">>;

/** `metadata.models` as the runner reads it: strings, or `{id}` objects (the queue path normalises both). */
function metadataModels(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const ids = value.map((m) => (typeof m === "string" ? m : typeof m === "object" && m !== null ? text((m as Record<string, unknown>)["id"]) : undefined));
  return [...new Set(ids.filter((id): id is string => id !== undefined && id !== ""))];
}

/**
 * The single model of a job that names no model list: the worker reads `metadata.model_id`, the portal
 * path `metadata.model`, both default to llama3.2-1b. The candidates, the worker's first.
 */
export function singleModelCandidates(row: SpecRow): string[] {
  return [...new Set([text(row.spec_model), text(row.spec_model_alt), DEFAULT_MODEL].filter((m): m is string => m !== undefined))];
}

/**
 * The (region, model) units a job should have run, the way the runners count them: `models[]` with
 * their own regions (a model runs in the job's regions it lists, `mr == r`), else every
 * `metadata.models` entry in every region (`NormalizeModelsFromMetadata`, `extractModels`), else one
 * model. `singleModel` picks that one model (default: the worker's reading).
 */
export function expectedUnits(row: SpecRow, names: RegionNames, singleModel?: string): { region: string; model: string }[] {
  const regions = strings(row.regions);
  const models = (Array.isArray(row.models) ? row.models : [])
    .map((m) => (typeof m === "object" && m !== null ? (m as Record<string, unknown>) : {}))
    .filter((m) => typeof m["id"] === "string" && m["id"] !== "")
    .map((m) => ({ id: m["id"] as string, regions: strings(m["regions"]) }));
  const units = new Map<string, { region: string; model: string }>();
  const add = (raw: string, model: string) => {
    const region = routerRegion(raw, names, "asked");
    units.set(`${region}|${model}`, { region, model });
  };
  const fromMetadata = metadataModels(row.metadata_models);
  if (models.length > 0) {
    for (const m of models) for (const r of regions.length > 0 ? regions.filter((x) => m.regions.includes(x)) : m.regions) add(r, m.id);
  } else if (fromMetadata.length > 0) {
    for (const m of fromMetadata) for (const r of regions) add(r, m);
  } else {
    const model = singleModel ?? singleModelCandidates(row)[0]!;
    for (const r of regions) add(r, model);
  }
  return [...units.values()];
}

export interface AnswerRules {
  placeholderPrefixes: readonly string[];
  /** `beacon.regions`: JobSpec codes and stored names under the router's names. */
  regions: RegionNames;
  /**
   * ROUTER_NETWORK after at least this many seconds is the runner's HTTP client timing out on a router
   * or provider that did not answer (`hybrid/client.go`: 300 s, classed as a network error).
   */
  routerClientTimeoutSeconds: number;
}

/** The runner's own cause of a failed execution, with the delay when the router call timed out. */
export function failureCause(e: Pick<JobAnswerRow, "failure_code" | "failure_type" | "failure_stage" | "failure_message" | "duration_s" | "output_chars" | "source">, clientTimeoutSeconds: number): string {
  const code = e.failure_code ?? undefined;
  const after = e.duration_s !== null && e.duration_s !== undefined ? ` after ${Math.round(e.duration_s)} s` : "";
  if (!code) {
    return e.source === null
      ? `failed${after}, no cause in the row (NULL output: the portal path keeps it in region_results)`
      : `failed${after}, no failure code in output_data`;
  }
  const where = [e.failure_stage, e.failure_type].filter(Boolean).join("/");
  const detail = e.failure_message ? `: ${e.failure_message}` : "";
  if (code === "ROUTER_NETWORK" && e.duration_s !== null && e.duration_s !== undefined && e.duration_s >= clientTimeoutSeconds * 0.95) {
    return `${code}${after}: the router or provider did not answer within the runner's ${clientTimeoutSeconds} s HTTP client timeout (a timeout, classed as a network error)${detail}`;
  }
  return `${code}${where ? ` (${where})` : ""}${after}${detail}`;
}

/**
 * What the portal path's own record says of `region` (router name), in its words: the causes its rows
 * lack (`cross_region_handlers.go:366-428`, `cross_region_executor.go:281-292,435,449-463`). "" when the
 * job has no record.
 */
export function portalRecordNote(record: PortalRunRecord | null | undefined, region: string, names: RegionNames): string {
  if (!record) return "";
  const rows = record.regions ?? [];
  const rr = rows.find((x) => routerRegion(x.region, names, "stored") === region);
  if (!rr) {
    return rows.length === 0 && record.status === "failed"
      ? "; the runner's record: the run's plan failed (fewer regions with a provider than min_regions), nothing ran"
      : `; the runner's record: the run did not plan ${region} (the router listed no provider for it: cross_region_executor.go:281-292)`;
  }
  const after = rr.ms !== null && rr.ms !== undefined ? ` after ${Math.round(rr.ms / 1000)} s` : "";
  if (rr.status === "success") {
    return `; the runner's record: region_results ${rr.region} success${after}, yet no row: its insert runs in a goroutine of its own and fails once the run's context is cancelled (cross_region_executor.go:435)`;
  }
  return `; the runner's record: region_results ${rr.region} ${rr.status}${rr.error ? ` "${rr.error}"` : ""}${after}`;
}

/** Why the portal would show this question without its answer; undefined when the answer is there. */
function answerProblem(e: JobAnswerRow, q: string | null, perQuestion: boolean, rules: AnswerRules): string | undefined {
  if (e.source === null) return "no answer stored (receipt_data and output_data are both NULL)";
  if (e.source === "receipt" && e.legacy_text) return "receipt holds a single output.data.text_output, no per-question answer (the mock-output incident)";
  const where = e.source === "receipt"
    ? e.receipt_kind === "modal" ? "Modal receipt output.response" : e.receipt_kind === "portal" ? "receipt output.data.response" : "the receipt"
    : "output_data.response";
  const answers = e.answers ?? [];
  if (answers.length === 0) {
    if (e.output_chars !== null) {
      if (e.output_chars === 0) return `${where} is empty`;
      if (e.non_answer) return `${where} is a non-answer (Modal's "Response extraction failed": no answer extracted)`;
      return undefined;
    }
    return `no answer in ${e.source === "receipt" ? "the receipt" : "output_data"} (neither response nor responses[])`;
  }
  const a = q === null ? answers[0] : (answers.find((x) => x.q === q) ?? (perQuestion && answers.length === 1 ? answers[0] : undefined));
  if (!a) return `${e.source === "receipt" ? "receipt" : "output_data"} has no answer for ${q}`;
  const question = (a.question ?? "").trim();
  const prefixes = rules.placeholderPrefixes.map((p) => p.toLowerCase());
  if (q !== null && question === "") return "question text is empty";
  if (q !== null && question === q) return "question text is the question id";
  if (prefixes.some((p) => question.toLowerCase().startsWith(p))) return `placeholder question text "${question.slice(0, 40)}"`;
  const explained = a.success === false && typeof a.error === "string" && a.error !== "";
  if ((a.chars ?? 0) === 0 && !explained) return "response is empty";
  return undefined;
}

/** Judges every job in `rows` (grouped by jobspec id, in row order). */
export function judgeJobAnswers(rows: JobAnswerRow[], rules: AnswerRules): JobAnswersVerdict {
  const byJob = new Map<string, JobAnswerRow[]>();
  for (const r of rows) byJob.set(r.jobspec_id, [...(byJob.get(r.jobspec_id) ?? []), r]);
  const verdict: JobAnswersVerdict = { jobs: byJob.size, judged: 0, underivable: [], findings: [], failedExecutions: 0, failures: [], causes: {}, inFlight: 0, absent: 0 };
  for (const [id, jobRows] of byJob) judgeJob(id, jobRows, rules, verdict);
  return verdict;
}

function judgeJob(id: string, rows: JobAnswerRow[], rules: AnswerRules, v: JobAnswersVerdict): void {
  const head = rows[0]!;
  const completed = head.status === "completed";
  const execs = rows.filter((r) => r.execution_id !== null);
  const questions = strings(head.questions);
  // One model and no list: whichever of the candidates the runner used (the worker's metadata.model_id,
  // the portal's metadata.model, the default) is the one its rows carry.
  const candidates = singleModelCandidates(head);
  const used = candidates.map((m) => ({ m, n: execs.filter((e) => (e.model_id ?? DEFAULT_MODEL) === m).length })).sort((a, b) => b.n - a.n)[0];
  const units = expectedUnits(head, rules.regions, used && used.n > 0 ? used.m : undefined);
  const expected = units.length * Math.max(1, questions.length);
  if (completed && execs.length === 0) {
    const record = head.portal_record
      ? `; the runner's record: run ${head.portal_record.status}, region_results ${(head.portal_record.regions ?? []).map((r) => `${r.region} ${r.status}`).join(", ") || "none"}`
      : "";
    v.findings.push(`job ${id}: completed with no executions (${expected} expected${record})`);
    v.judged += expected;
    return;
  }
  if (units.length === 0) {
    v.underivable.push(id);
    return;
  }
  const perQuestion = questions.length > 0 && execs.some((e) => (e.question_id ?? "") !== "");
  const keyOf = (region: string, model: string, q: string | null) => (perQuestion ? `${region} / ${model} / ${q}` : `${region} / ${model}`);
  const groups = new Map<string, JobAnswerRow[]>();
  for (const e of execs) {
    const key = keyOf(routerRegion(e.region ?? "", rules.regions, "stored"), e.model_id ?? DEFAULT_MODEL, e.question_id || null);
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  for (const [key, group] of groups) {
    if (group.length > 1) v.findings.push(`job ${id}: ${group.length} executions for ${key} (duplicates: executions ${group.map((e) => e.execution_id).join(", ")})`);
  }
  for (const unit of units) {
    for (const q of questions.length > 0 ? questions : [null]) {
      v.judged++;
      const key = keyOf(unit.region, unit.model, q);
      const group = groups.get(key) ?? [];
      const done = group.find((e) => e.execution_status === "completed");
      const what = perQuestion ? key : `${key}${q === null ? "" : ` / ${q}`}`;
      if (!done) {
        const moving = group.find((e) => IN_FLIGHT.has(e.execution_status ?? ""));
        const failed = group.find((e) => e.execution_status !== null && !IN_FLIGHT.has(e.execution_status));
        if (moving) v.inFlight++;
        else if (failed) {
          v.failedExecutions++;
          const code = failed.failure_code ?? "no cause stored";
          v.causes[code] = (v.causes[code] ?? 0) + 1;
          const record = failed.source === null ? portalRecordNote(head.portal_record, unit.region, rules.regions) : "";
          v.failures.push(`job ${id} execution ${failed.execution_id} (${what}): ${failureCause(failed, rules.routerClientTimeoutSeconds)}${record}`);
        } else if (completed) v.findings.push(`job ${id}: no execution for ${what} (the portal shows no answer for it${portalRecordNote(head.portal_record, unit.region, rules.regions)})`);
        else {
          v.absent++;
          v.failures.push(`job ${id} (${head.status}): no execution for ${what}, never written${portalRecordNote(head.portal_record, unit.region, rules.regions)}`);
        }
        continue;
      }
      const problem = answerProblem(done, q, perQuestion, rules);
      if (problem) v.findings.push(`job ${id} execution ${done.execution_id} (${what}): ${problem}`);
    }
  }
}
