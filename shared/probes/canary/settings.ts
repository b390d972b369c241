import { z } from "zod";
import { seconds, probeTimeoutMs } from "../settings.ts";

/** The stages a canary job travels, in order (contract sheet §2-§5). Each is reported as `stage:<name>`. */
export const CANARY_STAGES = ["accepted", "created", "outbox", "published", "queued", "processing", "started", "completed", "receipt"] as const;
export type CanaryStage = (typeof CANARY_STAGES)[number];

/**
 * The two submission paths (contract sheet §11). `cross-region` is the portal's, what users take:
 * `POST /api/v1/jobs/cross-region` writes the job `queued` with no outbox row and runs it in an
 * in-process goroutine that writes a region's execution rows when the region ends and the job's status
 * only at the end. `queue` is `POST /api/v1/jobs`: job `created` + outbox row, publisher, Redis, worker.
 */
export const CANARY_PATHS = ["cross-region", "queue"] as const;
export type CanaryPath = (typeof CANARY_PATHS)[number];

/** The stages a path has: the portal path has no outbox, queue or worker pickup to follow. */
export function stagesOf(path: CanaryPath): readonly CanaryStage[] {
  return path === "queue" ? CANARY_STAGES : CANARY_STAGES.filter((s) => !["outbox", "published", "queued", "processing"].includes(s));
}

/** The seed plan's regression checks, run on every canary. */
export const REGRESSION_CHECKS = ["regression:left-created", "regression:id-populated", "regression:questions-answered", "regression:both-apis"] as const;
export type RegressionCheck = (typeof REGRESSION_CHECKS)[number];

/** The regression checks a path has: `left-created` is the queue path's (portal jobs are never `created`). */
export function regressionsOf(path: CanaryPath): readonly RegressionCheck[] {
  return path === "queue" ? REGRESSION_CHECKS : REGRESSION_CHECKS.filter((r) => r !== "regression:left-created");
}


/**
 * Seconds after submission by which each stage must have happened. `accepted` is bounded by the submit
 * request itself and `started` by `startLatencySeconds`. Defaults: the job row and its outbox row are
 * written in the submit transaction. The outbox publisher backs off 2 s -> 10 s -> 30 s while idle
 * (contract sheet §11), and a canary every 15 minutes meets it idle: measured on the real runner, a
 * publish took 0.3-1.6 s busy, 5-8 s after a minute idle and 17 s after 6.7 minutes, so `published` (and
 * `queued`, the same RPUSH) gets 60 s, twice the longest sleep; the worker polls every 1-5 s after that.
 * The canary's job timeout is 300 s.
 */
export const StageBudgets = z.object({
  created: seconds(30),
  outbox: seconds(30),
  published: seconds(60),
  queued: seconds(60),
  processing: seconds(90),
  completed: seconds(420),
  receipt: seconds(480),
});

/** `probes.canary` of SENTINEL_SETTINGS. */
export const CanarySettings = z.object({
  /** Whole-run budget, inside Netlify's 30 s limit for scheduled functions. */
  timeoutMs: probeTimeoutMs(20_000),
  /** Per-request budget (the submit and the job read). */
  requestTimeoutMs: z.number().int().positive().default(8_000),
  /** The path the canary submits through: the portal's (`cross-region`, default) or the queue path (`queue`). */
  path: z.enum(CANARY_PATHS).default("cross-region"),
  /** Minutes between two canary submissions (the function runs every minute to follow the one in flight). */
  intervalMinutes: z.number().min(0).default(15),
  /** A canary whose first execution starts within this many seconds of submission is a good `start-latency` event. */
  startLatencySeconds: seconds(120),
  /** The seed's regression check (queue path): the job must leave `created` within this many seconds (the publisher's idle backoff included). */
  leftCreatedSeconds: seconds(60),
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

/** Budget of a stage in seconds since submission: a stage that happened later than this was late. */
export function budgetOf(stage: CanaryStage, s: CanarySettings): number {
  if (stage === "accepted") return s.requestTimeoutMs / 1000;
  if (stage === "started") return s.startLatencySeconds;
  return s.budgetsSeconds[stage];
}

/**
 * How long to wait before calling a stage missed. The same as its budget, except the portal path's
 * `started`: its rows are written only when their region ends (`cross_region_handlers.go:231-242`), so
 * the start is seen, exactly, only then; it is missed only once the job had time to complete.
 */
export function missBudgetOf(stage: CanaryStage, s: CanarySettings, path: CanaryPath): number {
  if (path === "cross-region" && stage === "started") return Math.max(s.startLatencySeconds, s.budgetsSeconds.completed);
  return budgetOf(stage, s);
}

/** After this many seconds a canary is settled whatever happened: every budget has passed. */
export function deadlineOf(s: CanarySettings): number {
  return Math.max(...CANARY_STAGES.map((stage) => budgetOf(stage, s)));
}

/** Minutes between two submissions: `intervalMinutes`, rounded up to a multiple of `beacon.database.everyMinutes` when set (submissions fall on its minutes). */
export function submissionIntervalMinutes(s: Pick<CanarySettings, "intervalMinutes">, beacon: { database: { everyMinutes?: number | undefined } }): number {
  const every = beacon.database.everyMinutes;
  return every === undefined ? s.intervalMinutes : Math.max(every, Math.ceil(s.intervalMinutes / every) * every);
}
