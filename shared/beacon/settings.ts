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
    .object({ jobs: SqlName.default("jobs"), outbox: SqlName.default("outbox"), executions: SqlName.default("executions") })
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
  routes: z
    .object({
      health: Route.default("/health"),
      ready: Route.default("/health/ready"),
      live: Route.default("/health/live"),
      jobs: Route.default("/api/v1/jobs"),
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
