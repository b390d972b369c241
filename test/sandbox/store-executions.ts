/**
 * SQL for executions, mirroring `internal/store/executions_repo.go` and the queries inlined in
 * `internal/api/executions_handler.go`. `executions.job_id` is the numeric jobs.id; every API join
 * is `e.job_id = j.id` and exposes `j.jobspec_id` as `job_id`.
 */
import type { Pool } from "@neondatabase/serverless";
import { decode, zeroOf, type Kind } from "./go-struct.ts";
import { rfc3339, tsText } from "./store-jobs.ts";

export interface NewExecution {
  jobspecId: string;
  providerId: string;
  region: string;
  status: "completed" | "failed" | "retrying";
  startedAt: Date;
  completedAt: Date;
  /** `created_at`; default NOW() (the portal path sets it to the region's start). */
  createdAt?: Date;
  output: unknown;
  receipt: unknown;
  modelId: string;
  questionId: string | null;
}

/** `InsertExecutionWithModel`: looks the job up by jobspec_id first, then inserts. */
export async function insertExecution(pool: Pool, e: NewExecution): Promise<number> {
  const job = await pool.query<{ id: number }>("SELECT id FROM jobs WHERE jobspec_id = $1", [e.jobspecId]);
  const jobId = job.rows[0]?.id;
  if (jobId === undefined) throw new Error(`job not found in database for jobspec_id: ${e.jobspecId}`);
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO executions (job_id, provider_id, region, status, started_at, completed_at, output_data, receipt_data, model_id, question_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, COALESCE($11::timestamp, NOW())) RETURNING id`,
    [
      jobId,
      e.providerId,
      e.region,
      e.status,
      e.startedAt.toISOString(), // TIMESTAMP without zone: Postgres keeps the UTC wall time, ignoring "Z"
      e.completedAt.toISOString(),
      e.output === null ? null : JSON.stringify(e.output),
      e.receipt === null ? null : JSON.stringify(e.receipt),
      e.modelId,
      e.questionId,
      e.createdAt?.toISOString() ?? null,
    ],
  );
  return rows[0]!.id;
}

const SUMMARY_COLUMNS = `e.id, j.jobspec_id AS job_id, e.status, e.region, e.provider_id,
  ${tsText("e.started_at")} AS started_at, ${tsText("e.completed_at")} AS completed_at, ${tsText("e.created_at")} AS created_at`;

interface SummaryRow {
  id: number;
  job_id: string;
  status: string;
  region: string;
  provider_id: string;
  started_at: string | null;
  completed_at: string | null;
  created_at: string | null;
}

function summary(row: SummaryRow) {
  return {
    id: row.id,
    job_id: row.job_id,
    status: row.status,
    region: row.region,
    provider_id: row.provider_id,
    started_at: rfc3339(row.started_at),
    completed_at: rfc3339(row.completed_at),
    created_at: rfc3339(row.created_at),
  };
}

/**
 * `GET /api/v1/executions` (`executions_handler.go:259-404`): newest first, with `output` and
 * `model_id`, and the receipt's string `id` as receipt_id ("" for a Modal receipt or none).
 */
export async function listExecutions(pool: Pool, limit: number, offset: number) {
  const { rows } = await pool.query<SummaryRow & { receipt_id: string; model_id: string; output: unknown }>(
    `SELECT ${SUMMARY_COLUMNS}, COALESCE(e.model_id, 'llama3.2-1b') AS model_id, e.output_data AS output,
       CASE WHEN jsonb_typeof(e.receipt_data->'id') = 'string' THEN e.receipt_data->>'id' ELSE '' END AS receipt_id
     FROM executions e JOIN jobs j ON e.job_id = j.id ORDER BY e.created_at DESC, e.id DESC LIMIT $1 OFFSET $2`,
    [limit, offset],
  );
  const total = await pool.query<{ total: number }>("SELECT COUNT(*)::int AS total FROM executions e JOIN jobs j ON e.job_id = j.id");
  return {
    executions: rows.map((r) => ({ ...summary(r), receipt_id: r.receipt_id, model_id: r.model_id, ...(r.output !== null ? { output: r.output } : {}) })),
    total: total.rows[0]?.total ?? rows.length,
  };
}

/**
 * `GET /api/v1/jobs/:id/executions/all` (`executions_handler.go:45-163`): every row, receipt or not,
 * with `output`, model, question, classification and retry fields.
 */
export async function listAllForJob(pool: Pool, jobspecId: string) {
  const { rows } = await pool.query<SummaryRow & Record<string, unknown>>(
    `SELECT ${SUMMARY_COLUMNS}, (e.receipt_data IS NOT NULL) AS has_receipt, e.output_data AS output,
       COALESCE(e.model_id, 'llama3.2-1b') AS model_id, COALESCE(e.question_id, '') AS question_id,
       COALESCE(e.response_classification, 'unknown') AS response_classification, COALESCE(e.is_substantive, false) AS is_substantive,
       COALESCE(e.is_content_refusal, false) AS is_content_refusal, COALESCE(e.retry_count, 0) AS retry_count, COALESCE(e.max_retries, 3) AS max_retries
     FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1 ORDER BY e.created_at DESC, e.id DESC`,
    [jobspecId],
  );
  return rows.map((r) => {
    const { output, question_id: questionId, ...rest } = r;
    return {
      ...summary(r), has_receipt: rest["has_receipt"], ...(output !== null ? { output } : {}), model_id: rest["model_id"],
      ...(questionId ? { question_id: questionId } : {}), response_classification: rest["response_classification"],
      is_substantive: rest["is_substantive"], is_content_refusal: rest["is_content_refusal"], retry_count: rest["retry_count"], max_retries: rest["max_retries"],
    };
  });
}

/**
 * `GET /api/v1/jobs/:id?include=executions|all` (`handlers_simple.go:241-365`): EVERY row of the job,
 * newest first, `{id, region, provider_id, status, model_id, question_id, response_classification,
 * is_substantive, is_content_refusal, started_at?, completed_at?, receipt?}`; the receipt as a map,
 * absent when the row has none (or it is not a JSON object).
 */
export async function listJobExecutionRows(pool: Pool, jobspecId: string, limit: number, offset: number): Promise<Record<string, unknown>[]> {
  const { rows } = await pool.query<Record<string, unknown> & { started_at: string | null; completed_at: string | null; receipt_data: unknown }>(
    `SELECT e.id, e.region, e.provider_id, e.status, ${tsText("e.started_at")} AS started_at, ${tsText("e.completed_at")} AS completed_at,
       e.model_id, e.question_id, e.receipt_data, e.response_classification, e.is_substantive, e.is_content_refusal
     FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2 OFFSET $3`,
    [jobspecId, limit, offset],
  );
  return rows.map(({ receipt_data: receipt, started_at: startedAt, completed_at: completedAt, ...row }) => ({
    ...row,
    ...(startedAt ? { started_at: rfc3339(startedAt) } : {}),
    ...(completedAt ? { completed_at: rfc3339(completedAt) } : {}),
    ...(typeof receipt === "object" && receipt !== null && !Array.isArray(receipt) ? { receipt } : {}),
  }));
}

/** `GET /api/v1/executions/:id/details`. */
export async function getExecutionDetails(pool: Pool, id: string) {
  const { rows } = await pool.query<SummaryRow & { output_data: unknown; receipt_data: unknown }>(
    `SELECT ${SUMMARY_COLUMNS}, e.output_data, e.receipt_data FROM executions e JOIN jobs j ON e.job_id = j.id WHERE e.id = $1`,
    [id],
  );
  const row = rows[0];
  return row && { ...summary(row), output: row.output_data, receipt: row.receipt_data };
}

/** `GET /api/v1/executions/:id/receipt`: only rows that have a receipt. */
export async function getReceipt(pool: Pool, id: string): Promise<unknown> {
  const { rows } = await pool.query<{ receipt_data: unknown }>("SELECT receipt_data FROM executions WHERE id = $1 AND receipt_data IS NOT NULL", [id]);
  return rows[0]?.receipt_data;
}

/** Beacon's `models.Receipt` as `encoding/json` binds it (times and the integer duration are strict). */
const RECEIPT: Kind = {
  t: "struct",
  fields: [
    { key: "schema_version", kind: { t: "string" } },
    { key: "id", kind: { t: "string" } },
    { key: "jobspec_id", kind: { t: "string" } },
    {
      key: "execution_details",
      kind: {
        t: "struct",
        fields: [
          { key: "task_id", kind: { t: "string" } },
          { key: "provider_id", kind: { t: "string" } },
          { key: "region", kind: { t: "string" } },
          { key: "started_at", kind: { t: "time" } },
          { key: "completed_at", kind: { t: "time" } },
          { key: "duration", kind: { t: "int" } },
          { key: "status", kind: { t: "string" } },
        ],
      },
    },
    { key: "output", kind: { t: "struct", fields: [{ key: "data", kind: { t: "any" } }, { key: "hash", kind: { t: "string" } }, { key: "metadata", kind: { t: "anyMap" } }] } },
    { key: "provenance", kind: { t: "struct", fields: [{ key: "benchmark_hash", kind: { t: "string" } }, { key: "provider_info", kind: { t: "anyMap" } }, { key: "execution_env", kind: { t: "anyMap" } }] } },
    { key: "created_at", kind: { t: "time" } },
    { key: "signature", kind: { t: "string" } },
    { key: "public_key", kind: { t: "string" } },
  ],
};

/**
 * `?include=latest` (`handlers_simple.go:228-238`): the newest receipt decoded into the Go struct; one
 * that does not decode (a Modal receipt: float times, no id) is no receipt, so the answer is `[]`.
 */
export async function latestReceipt(pool: Pool, jobspecId: string): Promise<unknown[]> {
  const { rows } = await pool.query<{ receipt_data: unknown }>(
    `SELECT e.receipt_data FROM executions e JOIN jobs j ON e.job_id = j.id
     WHERE j.jobspec_id = $1 AND e.receipt_data IS NOT NULL ORDER BY e.created_at DESC, e.id DESC LIMIT 1`,
    [jobspecId],
  );
  const row = rows[0];
  if (!row) return [];
  try {
    decode(RECEIPT, row.receipt_data, zeroOf(RECEIPT), "Receipt");
    return [row.receipt_data];
  } catch {
    return [];
  }
}
