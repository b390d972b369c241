import { z } from "zod";
import { seconds, probeTimeoutMs } from "../settings.ts";

/** The stages a canary job travels, in order (contract sheet §2-§5). Each is reported as `stage:<name>`. */
export const CANARY_STAGES = ["accepted", "created", "outbox", "published", "queued", "processing", "started", "completed", "receipt"] as const;
export type CanaryStage = (typeof CANARY_STAGES)[number];

/** The seed plan's regression checks, run on every canary. */
export const REGRESSION_CHECKS = ["regression:left-created", "regression:id-populated", "regression:questions-answered", "regression:both-apis"] as const;
export type RegressionCheck = (typeof REGRESSION_CHECKS)[number];


/**
 * Seconds after submission by which each stage must have happened. `accepted` is bounded by the submit
 * request itself and `started` by `startLatencySeconds`. Defaults: the job row and its outbox row are
 * written in the submit transaction, the publisher loops every 500 ms and the worker polls every 1-5 s,
 * so 30 s is generous; the canary's job timeout is 300 s.
 */
export const StageBudgets = z.object({
  created: seconds(30),
  outbox: seconds(30),
  published: seconds(30),
  queued: seconds(30),
  processing: seconds(60),
  completed: seconds(420),
  receipt: seconds(480),
});

/** `probes.canary` of SENTINEL_SETTINGS. */
export const CanarySettings = z.object({
  /** Whole-run budget, inside Netlify's 30 s limit for scheduled functions. */
  timeoutMs: probeTimeoutMs(20_000),
  /** Per-request budget (the submit and the job read). */
  requestTimeoutMs: z.number().int().positive().default(8_000),
  /** Minutes between two canary submissions (the function runs every minute to follow the one in flight). */
  intervalMinutes: z.number().min(0).default(15),
  /** A canary whose first execution starts within this many seconds of submission is a good `start-latency` event. */
  startLatencySeconds: seconds(120),
  /** The seed's regression check: the job must leave `created` within this many seconds. */
  leftCreatedSeconds: seconds(30),
  budgetsSeconds: StageBudgets.prefault({}),
  /** One region, one question, one model: every accepted canary runs real inference. */
  region: z.string().min(1).default("US"),
  question: z.string().min(1).default("math_basic"),
  model: z
    .object({
      id: z.string().min(1).default("llama3.2-1b"),
      name: z.string().min(1).default("Llama 3.2 1B"),
      provider: z.string().min(1).default("modal"),
      containerImage: z.string().min(1).default("ghcr.io/jamie-anson/project-beacon/llama-3.2-1b:latest"),
    })
    .prefault({}),
  /** The job's own execution timeout (`constraints.timeout`), seconds. */
  jobTimeoutSeconds: z.number().int().positive().default(300),
  providerTimeoutSeconds: z.number().int().positive().default(120),
  /** Most queue messages searched for the canary's envelope (one LRANGE), and dead/retry entries. */
  queueScanLimit: z.number().int().positive().max(10_000).default(1_000),
  deadScanLimit: z.number().int().positive().max(1_000).default(100),
  /** Body cap of the job details read (with receipts). */
  maxBodyBytes: z.number().int().positive().default(1024 * 1024),
  /** Question texts starting with one of these (case-insensitive) are placeholders, not real text. */
  placeholderPrefixes: z.array(z.string().min(1)).default(["Question text for", "Placeholder", "Lorem ipsum", "TODO"]),
});
export type CanarySettings = z.infer<typeof CanarySettings>;

/** Budget of a stage in seconds since submission. */
export function budgetOf(stage: CanaryStage, s: CanarySettings): number {
  if (stage === "accepted") return s.requestTimeoutMs / 1000;
  if (stage === "started") return s.startLatencySeconds;
  return s.budgetsSeconds[stage];
}

/** After this many seconds a canary is settled whatever happened: every budget has passed. */
export function deadlineOf(s: CanarySettings): number {
  return Math.max(...CANARY_STAGES.map((stage) => budgetOf(stage, s)));
}
