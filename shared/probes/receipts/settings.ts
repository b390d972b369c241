import { z } from "zod";
import { probeTimeoutMs } from "../settings.ts";

/** Modal's text for "no response could be extracted" (`modal_hf_*.py`): a completed row without an answer. */
export const NON_ANSWERS = ["Response extraction failed"] as const;

/**
 * `probes.receipts` of SENTINEL_SETTINGS. Requests per run: 1 (executions page) + 1 (job list) +
 * at most `maxJobs` (job details with receipts), i.e. 7 by default and 12 at most, no /admin route;
 * plus one SQL statement (job-answers) when BEACON_DATABASE_URL is set.
 */
export const ReceiptsSettings = z.object({
  /** Whole-probe budget, well inside Netlify's 30 s limit for scheduled functions. */
  timeoutMs: probeTimeoutMs(25_000),
  /** Per-request budget; the two list reads run together, then the job details together. */
  requestTimeoutMs: z.number().int().positive().default(8_000),
  /** `limit` of GET /api/v1/executions (Beacon caps it at 100). */
  executionsLimit: z.number().int().min(1).max(100).default(20),
  /** `limit` of GET /api/v1/jobs (Beacon caps it at 200). */
  jobListLimit: z.number().int().min(1).max(200).default(50),
  /** Most jobs whose receipts are read per run: one request each. */
  maxJobs: z.number().int().min(1).max(10).default(5),
  /** `exec_limit` of GET /api/v1/jobs/:id?include=executions: receipts read per job, newest first. */
  receiptsPerJob: z.number().int().min(1).max(200).default(50),
  /** Only jobs created within this many hours are judged, so a fixed incident stops failing the check. */
  lookbackHours: z.number().positive().default(6),
  /** Job statuses whose receipts are judged. */
  completedStatuses: z.array(z.string().min(1)).min(1).default(["completed"]),
  /**
   * Job statuses whose executions job-answers compares with their JobSpec (from the database). `running`
   * is a portal-path job whose run ended partial (fewer regions than min_success_rate succeeded): Beacon
   * leaves it `running` for good (`cross_region_handlers.go:430-448`), so it is as finished as it gets; the
   * queue path never writes `running`.
   */
  answerStatuses: z.array(z.string().min(1)).min(1).default(["completed", "failed", "running"]),
  /** Newest finished jobs job-answers judges per run (one SQL statement in all). */
  answerJobs: z.number().int().min(1).max(200).default(10),
  /** Most execution rows job-answers reads per run; the jobs beyond are left for the next run. */
  answerMaxRows: z.number().int().min(1).max(50_000).default(5_000),
  /** Body cap of the two list reads. */
  maxListBytes: z.number().int().positive().default(512 * 1024),
  /** Body cap of one job's details with its receipts; a larger body fails the receipts check. */
  maxDetailsBytes: z.number().int().positive().default(2 * 1024 * 1024),
  /**
   * Answers that are no answer (compared trimmed, case-insensitively): Modal writes "Response extraction
   * failed" when it could not extract a response (`modal_hf_*.py`), and the row still reads completed.
   */
  nonAnswers: z.array(z.string().min(1)).default([...NON_ANSWERS]),
  /** Question texts starting with one of these (case-insensitive) are placeholders, not real text. */
  placeholderPrefixes: z.array(z.string().min(1)).default(["Question text for", "Placeholder", "Lorem ipsum", "TODO"]),
});
export type ReceiptsSettings = z.infer<typeof ReceiptsSettings>;
