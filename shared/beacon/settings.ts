import { z } from "zod";

/**
 * Where things live in the Beacon deployment being watched. Every default comes from Beacon's own code
 * (see shared/beacon-contracts.md in the team notes); every one can be overridden, because real
 * deployments drift.
 */

/** A SQL identifier, optionally schema-qualified. Validated because it is interpolated into queries. */
const SqlName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, "must be a plain SQL identifier such as jobs or beacon.jobs");

const Route = z.string().regex(/^\/[^\s?#]*$/, "must be a path starting with /");

export const BeaconSettings = z.object({
  tables: z
    .object({
      jobs: SqlName.default("jobs"), outbox: SqlName.default("outbox"), executions: SqlName.default("executions"),
      /** The portal path's own record of a run and of each region (`migrations/0007_cross_region_executions.up.sql`): where it keeps a failed region's cause. */
      crossRegionExecutions: SqlName.default("cross_region_executions"), regionResults: SqlName.default("region_results"),
    })
    .prefault({}),
  database: z
    .object({
      /**
       * Give up opening a connection after this many ms. Above Neon's cold start (a suspended compute
       * wakes in a few seconds) and well inside a probe's budget, so a silent database fails its check.
       */
      connectTimeoutMs: z.number().int().positive().max(20_000).default(10_000),
      /** Per-statement limit for the sentinel's read-only queries. */
      statementTimeoutMs: z.number().int().positive().max(20_000).default(5_000),
      /**
       * Let Beacon's Neon compute sleep: every probe that runs SQL (outbox, receipts, regions, and health's
       * `database` check) runs only on the minutes divisible by this (UTC), and the canary submits only on
       * them, so all of our statements fall on the same minutes and Neon (which suspends after 5 idle
       * minutes) sleeps between them. Unset: each probe's own cadence (health's connection every minute
       * keeps Neon awake all month). A divisor of 60. Its cost in detection time: README "Letting Neon sleep".
       */
      everyMinutes: z.number().int().min(1).max(60).refine((n) => 60 % n === 0, "must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)").optional(),
    })
    .prefault({}),
  queue: z
    .object({
      /** Beacon's cfg.JobsQueueName. The retry zset, dead list and processing markers derive from it. */
      name: z.string().min(1).default("jobs"),
      /** Prefix of the JobRunner's per-job lock `job:processing:<jobspec_id>` (not derived from the queue name). */
      jobLockPrefix: z.string().min(1).default("job:processing:"),
    })
    .prefault({}),
  /**
   * Region names. The worker stores the hybrid router's names (`us-east`, `eu-west`, `asia-pacific`),
   * mapping a JobSpec's `US`/`EU`/`APAC`/`ASIA` and sending anything else to `eu-west`
   * (`worker/helpers.go:109-123`); the portal's cross-region path stores the JobSpec's codes raw
   * (`US`, `EU`). Probes compare regions under the router's names through this mapping.
   */
  regions: z
    .object({
      /** A code as a JobSpec or the portal path spells it (matched case-insensitively) -> the router's name. */
      aliases: z.record(z.string().min(1), z.string().min(1)).default({ US: "us-east", EU: "eu-west", APAC: "asia-pacific", ASIA: "asia-pacific" }),
      /** The router's own names, kept as they are. */
      names: z.array(z.string().min(1)).default(["us-east", "eu-west", "asia-pacific"]),
      /**
       * Where the worker runs a JobSpec region it does not know (mapRegionToRouter's default). A stored
       * execution region that is neither an alias nor a name is kept as spelled.
       */
      unknown: z.string().min(1).default("eu-west"),
    })
    .prefault({}),
  /** Beacon's own timers (`cmd/runner/main.go`, `hybrid/client.go`, `cross_region_handlers.go`), where the probes must agree with them. */
  runner: z
    .object({
      /**
       * The runner's HTTP client timeout on the hybrid router (HYBRID_ROUTER_TIMEOUT, default 300 s). A
       * call that hits it is recorded as `ROUTER_NETWORK`, not `ROUTER_TIMEOUT`, once per inference path
       * it tries (up to four), so the failure surfaces 5 to 20 minutes after the start.
       */
      routerClientTimeoutSeconds: z.number().positive().default(300),
      /** The timeout worker marks jobs `processing` longer than this `failed` (every 2 min); they may still complete. */
      jobTimeoutSeconds: z.number().positive().default(900),
      /** Startup recovery resets jobs `processing` longer than this to `created`, without an outbox row. */
      startupRecoverySeconds: z.number().positive().default(600),
      /** The portal path's in-process run: a context of this length; the job stays `queued` while it runs. */
      crossRegionRunSeconds: z.number().positive().default(900),
    })
    .prefault({}),
  routes: z
    .object({
      health: Route.default("/health"),
      ready: Route.default("/health/ready"),
      live: Route.default("/health/live"),
      jobs: Route.default("/api/v1/jobs"),
      /** The portal's submit route (`handlers/cross_region_handlers.go`): what users' jobs take. */
      crossRegion: Route.default("/api/v1/jobs/cross-region"),
      executions: Route.default("/api/v1/executions"),
      metrics: Route.default("/metrics"),
      queueStats: Route.default("/admin/queue-stats"),
      outboxStats: Route.default("/admin/outbox-stats"),
      republishJob: Route.default("/admin/republish-job"),
      republishStuckJobs: Route.default("/admin/republish-stuck-jobs"),
    })
    .prefault({}),
});
export type BeaconSettings = z.infer<typeof BeaconSettings>;

/** Redis keys of Beacon's queue, derived the way Beacon derives them from the queue name. */
export function beaconQueueKeys(queueName: string) {
  return {
    main: queueName,
    retry: `${queueName}:retry`,
    dead: `${queueName}:dead`,
    processingPattern: `${queueName}:processing:*`,
  };
}
