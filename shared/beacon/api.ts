import { z } from "zod";
import { JobSpec } from "./jobspec.ts";

/**
 * Bodies of Beacon's read API (`internal/api/routes.go`, `executions_handler.go`, `handlers_simple.go`;
 * contract sheet §5). Go encodes an empty list as `null`, so every list accepts `null`. Ids are kept
 * as plain strings here, empty ones included: an empty id is a finding of the id-mapping check, not a
 * shape error.
 */

/** One row of `GET /api/v1/executions`. `id` is the numeric execution id; `job_id` is the jobspec id. */
export const ExecutionSummary = z
  .object({
    id: z.number().int(),
    job_id: z.string(),
    status: z.string(),
    region: z.string(),
    provider_id: z.string(),
    /** RFC 3339, or "" when unset. */
    started_at: z.string(),
    completed_at: z.string(),
    created_at: z.string(),
    /** The receipt's own `id`, "" when the execution has none. */
    receipt_id: z.string().optional(),
  })
  .loose();
export type ExecutionSummary = z.infer<typeof ExecutionSummary>;

/** `GET /api/v1/executions?limit=&offset=`: an object, not an array (limit default 10, max 100). */
export const ExecutionsPage = z
  .object({
    executions: z.array(ExecutionSummary).nullable(),
    limit: z.number().int(),
    offset: z.number().int(),
    total: z.number().int(),
  })
  .loose();
export type ExecutionsPage = z.infer<typeof ExecutionsPage>;

/** One entry of `GET /api/v1/jobs?limit=` (default 50, max 200), newest first. `id` is the jobspec id. */
export const JobListEntry = z.object({ id: z.string(), status: z.string(), created_at: z.string() }).loose();
export type JobListEntry = z.infer<typeof JobListEntry>;

export const JobList = z.object({ jobs: z.array(JobListEntry).nullable() }).loose();
export type JobList = z.infer<typeof JobList>;

/**
 * One entry of `executions` in `GET /api/v1/jobs/:id?include=executions|all` (`handlers_simple.go:241-365`):
 * EVERY execution row of the job, newest first, the receipt as a map when the row has one (absent or
 * null when it has none: the hybrid path with an older Modal, failed rows, the portal path's failures).
 * Nullable columns are encoded as `null`.
 */
export const JobExecutionRow = z
  .object({
    id: z.number().int(),
    region: z.string().nullable(),
    provider_id: z.string().nullable(),
    /** completed, failed, retrying (a user retry in flight), pending, running. */
    status: z.string().nullable(),
    model_id: z.string().nullable().optional(),
    question_id: z.string().nullable().optional(),
    response_classification: z.string().nullable().optional(),
    is_substantive: z.boolean().nullable().optional(),
    is_content_refusal: z.boolean().nullable().optional(),
    started_at: z.string().optional(),
    completed_at: z.string().optional(),
    /** Classic, Modal or portal receipt (shared/beacon/receipt.ts), as stored. */
    receipt: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .loose();
export type JobExecutionRow = z.infer<typeof JobExecutionRow>;

/**
 * `GET /api/v1/jobs/:id[?include=executions&exec_limit=]`: the stored JobSpec and the job's status;
 * with `include`, `executions` holds every execution row (`null` when there is none).
 */
export const JobDetails = z
  .object({
    job: JobSpec,
    status: z.string(),
    executions: z.array(JobExecutionRow).nullable().optional(),
  })
  .loose();
export type JobDetails = z.infer<typeof JobDetails>;

/** Beacon's error body, e.g. `{"error":"persistence unavailable"}` (503) or `"Failed to fetch executions"` (500). */
export const ApiError = z.object({ error: z.string() }).loose();

/**
 * The envelope of a job details body without judging the JobSpec inside: what the receipts probe reads
 * first, so that an invalid stored JobSpec is reported as such while its ids and receipts are still judged.
 */
export const JobDetailsEnvelope = z
  .object({
    job: z.object({ id: z.string().optional(), jobspec_id: z.string().optional() }).loose(),
    status: z.string(),
    executions: z.array(z.unknown()).nullable().optional(),
  })
  .loose();
export type JobDetailsEnvelope = z.infer<typeof JobDetailsEnvelope>;

/** One entry of a job details' `executions`, read leniently: the row (when served as a row) and its receipt. */
export interface ServedExecution {
  /** The execution row, when Beacon serves rows (newest runner); undefined for a bare receipt (older runner). */
  row?: JobExecutionRow;
  /** The receipt as served, or null when the row has none. */
  receipt: unknown;
  /** Position in the list, for evidence when nothing else names it. */
  index: number;
}

/**
 * Beacon's `?include=executions` in either generation: every row with its receipt (`{id, status,
 * region, …, receipt?}`, `handlers_simple.go:241-365`) or, from an older runner, the receipts themselves.
 * An entry that looks like a row but does not parse as one is kept as a receipt, so its judge names why.
 */
export function servedExecutions(list: readonly unknown[] | null | undefined): ServedExecution[] {
  return (list ?? []).map((entry, index) => {
    const looksLikeRow = typeof entry === "object" && entry !== null && !Array.isArray(entry) && !("schema_version" in entry) &&
      ("receipt" in entry || (typeof (entry as Record<string, unknown>)["id"] === "number" && "status" in entry));
    const row = looksLikeRow ? JobExecutionRow.safeParse(entry) : undefined;
    if (row?.success) return { row: row.data, receipt: row.data.receipt ?? null, index };
    return { receipt: entry, index };
  });
}
