import { z } from "zod";
import { probeTimeoutMs } from "../settings.ts";

/**
 * `probes.traffic` of SENTINEL_SETTINGS. The per-run bounds flag a clearly bad window; the SLOs hold the
 * hardening plan's strict targets (99 % jobs, 0.1 % 5xx, 120 s pick-up) over their own windows.
 */
export const TrafficSettings = z.object({
  /** Whole-probe budget, well inside Netlify's 30 s limit for scheduled functions. */
  timeoutMs: probeTimeoutMs(15_000),
  /** Budget of the one /metrics request. */
  requestTimeoutMs: z.number().int().positive().default(5_000),
  /** A larger /metrics body is not read further and fails the scrape. */
  maxBodyBytes: z.number().int().positive().default(2 * 1024 * 1024),
  /** A previous scrape older than this is not diffed against: a new baseline is recorded instead. */
  maxBaselineAgeMinutes: z.number().positive().default(60),
  /**
   * Requests to these route paths are not counted: the scrape itself, and the health, readiness and
   * liveness routes, which answer 503 by design while a dependency is down and are called by probers
   * (ours included), not users. The configured `beacon.routes` health, ready, live and metrics are
   * always added. The sentinel's requests to other routes are subtracted instead (README: "SLIs that
   * measure users").
   */
  ignorePaths: z.array(z.string()).default([
    "/metrics", "/api/v1/metrics", "/health", "/api/v1/health", "/health/ready", "/api/v1/health/ready", "/health/live", "/api/v1/health/live",
  ]),
  /** 5xx-ratio fails above this share of requests in the window... */
  max5xxRatio: z.number().min(0).max(1).default(0.05),
  /** ...when the window holds at least this many requests. */
  minRequests: z.number().int().nonnegative().default(20),
  /** job-success fails below this share of processed / (processed + failed)... */
  minJobSuccessRatio: z.number().min(0).max(1).default(0.9),
  /** queue-latency fails below this share of jobs picked up within the target... */
  minQueueLatencyRatio: z.number().min(0).max(1).default(0.9),
  /** ...each when the window holds at least this many jobs. */
  minJobs: z.number().int().nonnegative().default(3),
  /** Pick-up target in seconds; the histogram bucket at it, or the nearest below it, is used. */
  queueLatencyTargetSeconds: z.number().positive().default(120),
  metrics: z
    .object({
      requests: z.string().min(1).default("http_requests_total"),
      jobsProcessed: z.string().min(1).default("jobs_processed_total"),
      jobsFailed: z.string().min(1).default("jobs_failed_total"),
      queueLatency: z.string().min(1).default("runner_queue_latency_seconds"),
    })
    .prefault({}),
});
export type TrafficSettings = z.infer<typeof TrafficSettings>;
