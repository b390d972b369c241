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
 * `GET /api/v1/jobs/:id[?include=executions&exec_limit=]`: the stored JobSpec and the job's status;
 * with `include`, `executions` holds receipts only (rows whose receipt_data is not NULL), newest first.
 */
export const JobDetails = z
  .object({
    job: JobSpec,
    status: z.string(),
    executions: z.array(z.unknown()).nullable().optional(),
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
