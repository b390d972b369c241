import type { BeaconSettings } from "../../beacon/settings.ts";
import type { SqlClient } from "../../sql.ts";
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
}

/**
 * One statement: the newest finished jobs (range on jobs(updated_at)) with the parts of the JobSpec
 * that say what they should produce, joined to their executions (index on executions(job_id), the
 * numeric FK, as Beacon's API joins). Each answer is reduced in SQL to its question id, the first 120
 * characters of its question text and the length of its response, so a long answer never leaves the
 * database. The answer is read from the receipt when there is one, else from output_data.
 */
export function queryJobAnswers(sql: SqlClient, tables: BeaconSettings["tables"], q: JobAnswersQuery): Promise<JobAnswerRow[]> {
  const array = (expr: string) => `CASE WHEN jsonb_typeof(${expr}) = 'array' THEN ${expr} END`;
  return sql.query<JobAnswerRow & Record<string, unknown>>(
    `WITH recent AS (
       SELECT id, jobspec_id, status, updated_at,
         jobspec_data->'constraints'->'regions' AS regions, jobspec_data->'questions' AS questions,
         jobspec_data->'metadata'->'model_id' AS spec_model,
         (SELECT jsonb_agg(jsonb_build_object('id', m->'id', 'regions', m->'regions'))
            FROM jsonb_array_elements(COALESCE(${array("jobspec_data->'models'")}, '[]'::jsonb)) m) AS models
       FROM ${tables.jobs}
       WHERE status = ANY($1::text[]) AND updated_at >= (now() AT TIME ZONE 'UTC') - make_interval(secs => $2)
       ORDER BY updated_at DESC, id DESC LIMIT $3
     )
     SELECT r.jobspec_id::text AS jobspec_id, r.status, r.regions, r.models, r.questions, r.spec_model,
       e.id AS execution_id, e.region, e.model_id, e.question_id, e.status AS execution_status,
       CASE WHEN e.receipt_data IS NOT NULL THEN 'receipt' WHEN e.output_data IS NOT NULL THEN 'output' END AS source,
       (SELECT jsonb_agg(jsonb_build_object('q', x->>'question_id', 'question', left(x->>'question', 120),
            'chars', length(btrim(COALESCE(x->>'response', ''))), 'success', x->'success', 'error', left(x->>'error', 120)))
          FROM jsonb_array_elements(COALESCE(
            ${array("s.o->'data'->'responses'")}, ${array("s.o->'data'->'data'->'responses'")}, ${array("s.o->'responses'")}, '[]'::jsonb)) x
          WHERE jsonb_typeof(x) = 'object') AS answers,
       CASE WHEN e.receipt_data IS NULL AND jsonb_typeof(e.output_data->'response') = 'string'
         THEN length(btrim(e.output_data->>'response')) END AS output_chars,
       jsonb_typeof(s.o->'data'->'text_output') = 'string' AS legacy_text
     FROM recent r
     LEFT JOIN ${tables.executions} e ON e.job_id = r.id
     LEFT JOIN LATERAL (SELECT CASE WHEN e.receipt_data IS NOT NULL THEN e.receipt_data->'output' ELSE e.output_data END AS o) s ON true
     ORDER BY r.updated_at DESC, r.id DESC, e.id ASC
     LIMIT $4`,
    [q.statuses, q.lookbackSeconds, q.maxJobs, q.maxRows],
  );
}
