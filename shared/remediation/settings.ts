import { z } from "zod";

/** `remediation` of SENTINEL_SETTINGS: how republishing talks to Beacon's admin endpoints. */
export const RemediationSettings = z.object({
  /**
   * Least time between two requests to Beacon's /admin routes, in ms. Beacon allows ONE admin request
   * per 10 s per client IP, shared across every /admin route (contract sheet §4). Default 10500.
   */
  adminIntervalMs: z.number().int().positive().default(10_500),
  /** Attempts per job (the first included) when Beacon answers 429. Default 3. */
  attemptsPerJob: z.number().int().positive().max(10).default(3),
  /** Longest Retry-After we wait for, in seconds; beyond it the job is reported as rate limited. Default 60. */
  maxRetryAfterSeconds: z.number().positive().default(60),
  /**
   * Most jobs one HTTP request republishes: paced at one per interval they must fit the function's time
   * limit (Netlify: 60 s, and a 429 can add a 10 s wait), so the API answers with the rest still to do.
   * The CLI has no such limit. Default 3.
   */
  maxJobsPerRequest: z.number().int().positive().default(3),
  /** Most jobs one request may name in `jobIds`. Default 100. */
  maxRequestedJobs: z.number().int().positive().max(1_000).default(100),
  /** Audit entries kept in the store (newest first). Default 500. */
  auditLength: z.number().int().positive().default(500),
  /**
   * Most messages read from Beacon's queue list and retry set to check each job against. A longer queue
   * cannot be judged whole, so nothing is republished. Default 10000.
   */
  queueMaxEntries: z.number().int().positive().max(100_000).default(10_000),
  /** Per-request timeout of an admin call, in ms. Default 8000. */
  requestTimeoutMs: z.number().int().positive().default(8_000),
});
export type RemediationSettings = z.infer<typeof RemediationSettings>;
