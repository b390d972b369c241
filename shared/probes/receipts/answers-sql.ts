import type { BeaconSettings } from "../../beacon/settings.ts";
import type { SqlClient } from "../../sql.ts";
import { withQuestionId } from "../../beacon/question-column.ts";
import type { JobAnswerRow } from "./answers.ts";

export interface JobAnswersQuery {
  /** Job statuses to judge, e.g. completed and failed. */
  statuses: string[];
  /** Only jobs whose status changed within this many seconds. */
  lookbackSeconds: number;
  /** Newest jobs read. */
  maxJobs: number;
  /** Most execution rows read in all (a bound on the statement's size). */
  maxRows: number;
  /** Answers that are no answer (Modal's "Response extraction failed"), compared trimmed and case-insensitively. */
  nonAnswers: string[];
}

/**
 * One statement: the newest finished jobs (range on jobs(updated_at)) with the parts of the JobSpec
 * that say what they should produce (regions, questions, `models[]`, `metadata.models`,
 * `metadata.model_id`, `metadata.model`), joined to their executions (index on executions(job_id), the
 * numeric FK, as Beacon's API joins). Each answer is reduced in SQL to lengths, flags and the first
 * 120 characters of its question text, so a long answer never leaves the database. The answer is read
 * where each of Beacon's paths keeps it:
 * - a classic receipt's `output.data[.data].responses[]` (or the same in `output_data`);
 * - a Modal receipt's `output.response`, a portal receipt's `output.data.response`;
 * - `output_data.response` when there is no receipt (hybrid path with an older Modal);
 * and a failed row's cause from `output_data` (`error_code`, `failure{code,type,stage,…}`) with the
 * time the call took (`completed_at - started_at`), and for a portal job the run's own record
 * (`cross_region_executions`, `region_results`), where that path keeps the causes its rows lack.
 * Where Beacon's database lacks `executions.question_id` (007 not applied) the statement is run again
 * without it, and `questionIdMissing` says so (question-column.ts).
 */
export async function queryJobAnswers(sql: SqlClient, tables: BeaconSettings["tables"], q: JobAnswersQuery): Promise<{ rows: JobAnswerRow[]; questionIdMissing: boolean }> {
  const array = (expr: string) => `CASE WHEN jsonb_typeof(${expr}) = 'array' THEN ${expr} END`;
  const str = (expr: string) => `CASE WHEN jsonb_typeof(${expr}) = 'string' THEN ${expr} #>> '{}' END`;
  const { value: rows, questionIdMissing } = await withQuestionId((column) => sql.query<JobAnswerRow & Record<string, unknown>>(
    `WITH recent AS (
       SELECT id, jobspec_id, status, updated_at,
         jobspec_data->'constraints'->'regions' AS regions, jobspec_data->'questions' AS questions,
         jobspec_data->'metadata'->'model_id' AS spec_model, jobspec_data->'metadata'->'model' AS spec_model_alt,
         jobspec_data->'metadata'->'models' AS metadata_models,
         (SELECT jsonb_agg(jsonb_build_object('id', m->'id', 'regions', m->'regions'))
            FROM jsonb_array_elements(COALESCE(${array("jobspec_data->'models'")}, '[]'::jsonb)) m) AS models
       FROM ${tables.jobs}
       WHERE status = ANY($1::text[]) AND updated_at >= (now() AT TIME ZONE 'UTC') - make_interval(secs => $2)
       ORDER BY updated_at DESC, id DESC LIMIT $3
     ), portal AS MATERIALIZED (
       -- The portal path's own record of the run (index on cross_region_executions(jobspec_id)): where it keeps the causes its rows lack.
       SELECT r.id, (SELECT jsonb_build_object('status', c.status, 'regions', (SELECT jsonb_agg(jsonb_build_object('region', rr.region, 'status', rr.status,
             'error', left(rr.error_message, 120), 'ms', rr.duration_ms)) FROM ${tables.regionResults} rr WHERE rr.cross_region_execution_id = c.id))
           FROM ${tables.crossRegionExecutions} c WHERE c.jobspec_id = r.jobspec_id ORDER BY c.created_at DESC LIMIT 1) AS record
       FROM recent r
     )
     SELECT r.jobspec_id::text AS jobspec_id, p.record AS portal_record, r.status, r.regions, r.models, r.metadata_models, r.questions, r.spec_model, r.spec_model_alt,
       e.id AS execution_id, e.region, e.model_id, ${column("e")} AS question_id, e.status AS execution_status,
       CASE WHEN e.receipt_data IS NOT NULL THEN 'receipt' WHEN e.output_data IS NOT NULL THEN 'output' END AS source,
       CASE WHEN e.receipt_data IS NULL THEN NULL
         WHEN e.receipt_data->'output' ? 'response' AND NOT e.receipt_data->'output' ? 'data' THEN 'modal'
         WHEN jsonb_typeof(e.receipt_data->'output'->'data'->'response') = 'string' THEN 'portal'
         WHEN jsonb_typeof(e.receipt_data->'output'->'data'->'responses') = 'array'
           OR jsonb_typeof(e.receipt_data->'output'->'data'->'data'->'responses') = 'array' THEN 'classic'
         WHEN jsonb_typeof(e.receipt_data->'output'->'data'->'text_output') = 'string' THEN 'legacy-text'
         ELSE 'unknown' END AS receipt_kind,
       (SELECT jsonb_agg(jsonb_build_object('q', x->>'question_id', 'question', left(x->>'question', 120),
            'chars', length(btrim(COALESCE(x->>'response', ''))), 'success', x->'success', 'error', left(x->>'error', 120) || CASE WHEN length(x->>'error') > 120 THEN '…' ELSE '' END))
          FROM jsonb_array_elements(COALESCE(
            ${array("s.o->'data'->'responses'")}, ${array("s.o->'data'->'data'->'responses'")}, ${array("s.o->'responses'")}, '[]'::jsonb)) x
          WHERE jsonb_typeof(x) = 'object') AS answers,
       length(btrim(a.single)) AS output_chars,
       a.single IS NOT NULL AND lower(btrim(a.single)) = ANY($5::text[]) AS non_answer,
       jsonb_typeof(s.o->'data'->'text_output') = 'string' AS legacy_text,
       COALESCE(${str("e.output_data->'failure'->'code'")}, ${str("e.output_data->'error_code'")}) AS failure_code,
       ${str("e.output_data->'failure'->'type'")} AS failure_type,
       ${str("e.output_data->'failure'->'stage'")} AS failure_stage,
       left(COALESCE(${str("e.output_data->'failure'->'message'")}, ${str("e.output_data->'error'")}), 160) AS failure_message,
       EXTRACT(EPOCH FROM e.completed_at - e.started_at)::float8 AS duration_s
     FROM recent r
     JOIN portal p ON p.id = r.id
     LEFT JOIN ${tables.executions} e ON e.job_id = r.id
     LEFT JOIN LATERAL (SELECT CASE WHEN e.receipt_data IS NOT NULL THEN e.receipt_data->'output' ELSE e.output_data END AS o) s ON true
     LEFT JOIN LATERAL (SELECT COALESCE(
         CASE WHEN e.receipt_data IS NOT NULL THEN COALESCE(${str("e.receipt_data->'output'->'response'")}, ${str("e.receipt_data->'output'->'data'->'response'")}) END,
         CASE WHEN e.receipt_data IS NULL THEN ${str("e.output_data->'response'")} END) AS single) a ON true
     ORDER BY r.updated_at DESC, r.id DESC, e.id ASC
     LIMIT $4`,
    [q.statuses, q.lookbackSeconds, q.maxJobs, q.maxRows, q.nonAnswers.map((t) => t.trim().toLowerCase())],
  ));
  return { rows, questionIdMissing };
}
