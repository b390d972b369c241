/**
 * Per-job judgement of what Beacon stored against what the JobSpec asked for (contract sheet §4, §10):
 * one execution per region × model × question (the per-question path, hybrid router included), or one
 * per region × model answering every question (the older multi-question receipt). The answer is read
 * where Beacon keeps it: the receipt (`receipt_data`), else `output_data` (`{response, provider,
 * metadata}` on the hybrid path, where `receipt_data` is NULL). Pure: the rows come from answers-sql.ts.
 */

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

/** One row of the job-answers statement: a job, and one of its executions (all null when it has none). */
export interface JobAnswerRow {
  jobspec_id: string;
  status: string;
  regions: unknown;
  models: unknown;
  questions: unknown;
  /** `metadata.model_id` of the spec: the model of the single-model path. */
  spec_model: unknown;
  execution_id: number | null;
  region: string | null;
  model_id: string | null;
  question_id: string | null;
  execution_status: string | null;
  /** Where the answer was read: the receipt, else output_data; null when both are NULL. */
  source: "receipt" | "output" | null;
  answers: StoredAnswer[] | null;
  /** output_data.response (hybrid path): its trimmed length; null when absent. */
  output_chars: number | null;
  legacy_text: boolean | null;
}

export interface JobAnswersVerdict {
  jobs: number;
  /** Expected answers that were judged (found or missing). */
  judged: number;
  /** Jobs whose JobSpec named no region, so nothing could be expected of them. */
  underivable: string[];
  findings: string[];
  /** Expected answers whose execution failed (Beacon completed the job within min_success_rate). */
  failedExecutions: number;
}

/** Beacon's default model when the spec names none (`executeSingleRegion`). */
export const DEFAULT_MODEL = "llama3.2-1b";

/** The hybrid router's region names (`internal/worker/helpers.go`): anything unknown becomes eu-west. */
export function routerRegion(region: string): string {
  const r = region.trim();
  if (["us-east", "eu-west", "asia-pacific"].includes(r.toLowerCase())) return r.toLowerCase();
  switch (r.toUpperCase()) {
    case "US":
      return "us-east";
    case "APAC":
    case "ASIA":
      return "asia-pacific";
    default:
      return "eu-west";
  }
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string" && v !== "") : []);

/** The (region, model) units a job should have run, the way the job runner and its barrier count them. */
export function expectedUnits(row: Pick<JobAnswerRow, "regions" | "models" | "spec_model">): { region: string; model: string }[] {
  // Regions are matched as the spec spells them (Beacon compares `mr == r`), then stored under router names.
  const regions = strings(row.regions);
  const models = (Array.isArray(row.models) ? row.models : [])
    .map((m) => (typeof m === "object" && m !== null ? (m as Record<string, unknown>) : {}))
    .filter((m) => typeof m["id"] === "string" && m["id"] !== "")
    .map((m) => ({ id: m["id"] as string, regions: strings(m["regions"]) }));
  const units = new Map<string, { region: string; model: string }>();
  const add = (raw: string, model: string) => {
    const region = routerRegion(raw);
    units.set(`${region}|${model}`, { region, model });
  };
  if (models.length === 0) {
    const model = typeof row.spec_model === "string" && row.spec_model !== "" ? row.spec_model : DEFAULT_MODEL;
    for (const r of regions) add(r, model);
  } else {
    for (const m of models) for (const r of regions.length > 0 ? regions.filter((x) => m.regions.includes(x)) : m.regions) add(r, m.id);
  }
  return [...units.values()];
}

export interface AnswerRules {
  placeholderPrefixes: readonly string[];
}

/** Why the portal would show this question without its answer; undefined when the answer is there. */
function answerProblem(e: JobAnswerRow, q: string | null, perQuestion: boolean, rules: AnswerRules): string | undefined {
  if (e.source === null) return "no answer stored (receipt_data and output_data are both NULL)";
  if (e.source === "receipt" && e.legacy_text) return "receipt holds a single output.data.text_output, no per-question answer (the mock-output incident)";
  const answers = e.answers ?? [];
  if (answers.length === 0) {
    if (e.source === "output" && e.output_chars !== null) return e.output_chars > 0 ? undefined : "output_data.response is empty";
    return `no answer in ${e.source === "receipt" ? "the receipt" : "output_data"} (neither response nor responses[])`;
  }
  const a = q === null ? answers[0] : (answers.find((x) => x.q === q) ?? (perQuestion && answers.length === 1 ? answers[0] : undefined));
  if (!a) return `${e.source === "receipt" ? "receipt" : "output_data"} has no answer for ${q}`;
  const text = (a.question ?? "").trim();
  const prefixes = rules.placeholderPrefixes.map((p) => p.toLowerCase());
  if (q !== null && text === "") return "question text is empty";
  if (q !== null && text === q) return "question text is the question id";
  if (prefixes.some((p) => text.toLowerCase().startsWith(p))) return `placeholder question text "${text.slice(0, 40)}"`;
  const explained = a.success === false && typeof a.error === "string" && a.error !== "";
  if ((a.chars ?? 0) === 0 && !explained) return "response is empty";
  return undefined;
}

/** Judges every job in `rows` (grouped by jobspec id, in row order). */
export function judgeJobAnswers(rows: JobAnswerRow[], rules: AnswerRules): JobAnswersVerdict {
  const byJob = new Map<string, JobAnswerRow[]>();
  for (const r of rows) byJob.set(r.jobspec_id, [...(byJob.get(r.jobspec_id) ?? []), r]);
  const verdict: JobAnswersVerdict = { jobs: byJob.size, judged: 0, underivable: [], findings: [], failedExecutions: 0 };
  for (const [id, jobRows] of byJob) judgeJob(id, jobRows, rules, verdict);
  return verdict;
}

function judgeJob(id: string, rows: JobAnswerRow[], rules: AnswerRules, v: JobAnswersVerdict): void {
  const head = rows[0]!;
  const completed = head.status === "completed";
  const execs = rows.filter((r) => r.execution_id !== null);
  const questions = strings(head.questions);
  const units = expectedUnits(head);
  const expected = units.length * Math.max(1, questions.length);
  if (completed && execs.length === 0) {
    v.findings.push(`job ${id}: completed with no executions (${expected} expected)`);
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
    const key = keyOf(routerRegion(e.region ?? ""), e.model_id ?? DEFAULT_MODEL, e.question_id || null);
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
        if (group.length > 0) v.failedExecutions++;
        else if (completed) v.findings.push(`job ${id}: no execution for ${what} (the portal shows no answer for it)`);
        continue;
      }
      const problem = answerProblem(done, q, perQuestion, rules);
      if (problem) v.findings.push(`job ${id} execution ${done.execution_id} (${what}): ${problem}`);
    }
  }
}
