import type { BeaconSettings } from "../../beacon/settings.ts";
import type { SqlClient } from "../../sql.ts";

/**
 * The outbox probe's two statements. Both are read-only, bounded by LIMITs, and compute every age in
 * SQL against `now() AT TIME ZONE 'UTC'`: Beacon's columns are `TIMESTAMP without time zone` holding
 * UTC, so no timestamp ever crosses into JavaScript to be misread as local time.
 *
 * Table names are validated identifiers (shared/beacon/settings.ts), so interpolating them is safe.
 */

/** Seconds since a UTC `timestamp without time zone` column. */
const ageOf = (column: string) => `EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - ${column})::float8`;
/** `column` older than `$n` seconds: the right side is a constant, so an index on `column` applies. */
const olderThan = (column: string, param: number) => `${column} < (now() AT TIME ZONE 'UTC') - make_interval(secs => $${param})`;

/** How far back the clock-skew check reads executions for a `started_at` ahead of the clock (no index on it). */
export const SKEW_SCAN = "1 hour";

/** The envelope keys (and the JobMessage keys that betray the payload-mismatch shape) kept from a payload. */
const ENVELOPE_KEYS = ["id", "enqueued_at", "attempt", "request_id", "jobspec_id", "action", "attempts", "max_retries"];

export interface OutboxRow {
  /** Unpublished rows in the outbox, counted up to `countCap`. */
  unpublished: number;
  /** Null on the single row returned when the outbox sample is empty. */
  kind: "unpublished" | "recent" | null;
  id: string | null;
  age_s: number | null;
  payload_type: string | null;
  /** The payload reduced to its envelope keys (a huge payload never leaves the database whole). */
  envelope: Record<string, unknown> | null;
  job_exists: boolean | null;
}

export interface OutboxQueryLimits {
  unpublishedSample: number;
  recentSample: number;
  countCap: number;
}

/**
 * Statement 1: the unpublished backlog (capped count), the first `unpublishedSample` unpublished rows
 * in the publisher's own order (`ORDER BY id`, so the first is the row it is stuck on) and the
 * `recentSample` most recently published rows, each with whether its payload id names a job.
 * Cost: index scans on outbox(published_at) and the outbox primary key, and one probe of the unique
 * jobs(jobspec_id) index per sampled row.
 */
export function queryOutbox(sql: SqlClient, tables: BeaconSettings["tables"], limits: OutboxQueryLimits): Promise<OutboxRow[]> {
  const keys = ENVELOPE_KEYS.map((k) => `'${k}'`).join(", ");
  return sql.query<OutboxRow & Record<string, unknown>>(
    `WITH stats AS (
       SELECT count(*)::int AS unpublished
       FROM (SELECT 1 FROM ${tables.outbox} WHERE published_at IS NULL LIMIT $3) capped
     ), unpublished AS (
       SELECT id, created_at, payload FROM ${tables.outbox} WHERE published_at IS NULL ORDER BY id ASC LIMIT $1
     ), recent AS (
       SELECT id, created_at, payload FROM ${tables.outbox} WHERE published_at IS NOT NULL ORDER BY id DESC LIMIT $2
     ), sample AS (
       SELECT 'unpublished' AS kind, * FROM unpublished UNION ALL SELECT 'recent' AS kind, * FROM recent
     )
     SELECT st.unpublished, s.kind, s.id::text AS id, ${ageOf("s.created_at")} AS age_s,
       jsonb_typeof(s.payload) AS payload_type,
       CASE WHEN jsonb_typeof(s.payload) = 'object' THEN
         (SELECT COALESCE(jsonb_object_agg(e.key, e.value), '{}'::jsonb) FROM jsonb_each(s.payload) e WHERE e.key IN (${keys}))
       END AS envelope,
       CASE WHEN s.id IS NOT NULL THEN
         EXISTS (SELECT 1 FROM ${tables.jobs} j WHERE j.jobspec_id = s.payload->>'id')
       END AS job_exists
     FROM stats st LEFT JOIN sample s ON true
     ORDER BY s.kind DESC, s.id ASC`,
    [limits.unpublishedSample, limits.recentSample, limits.countCap],
  );
}

export type StuckState = "created" | "queued" | "processing" | "finalizing" | "running" | "execution-running";

/** Rows of statement 2 that are not stuck jobs: the database clock, and rows dated ahead of it. */
export type ClockState = "db-clock" | "future";

export interface StuckRow {
  state: StuckState | ClockState;
  /** jobspec_id for jobs; executions.id for executions. */
  id: string;
  /** Seconds in the state: from created_at for created/queued, updated_at for processing/running,
   * started_at (else created_at) for executions. */
  age_s: number;
  /** created only: outbox rows whose payload names the job, how many are unpublished, the newest row. */
  outbox_rows: number | null;
  outbox_unpublished: number | null;
  outbox_id: string | null;
  published_age_s: number | null;
  /** created only: the outbox scan stopped at its row cap, so "no row" means "none among the newest". */
  scan_capped: boolean | null;
  /** execution-running only: executions.job_id as text (numeric FK in the migrations; text-safe). */
  job_id: string | null;
  /** future only: the table and column dated ahead of the database clock, e.g. "jobs.updated_at",
   * and the timestamp itself; db-clock: the database's now() as epoch seconds in `age_s`. */
  detail: string | null;
  /**
   * created only: seconds between the job's creation and its last status change (`updated_at`). A job
   * that left `created` and came back (startup recovery resets `processing` jobs to `created`) has a
   * large one; a job written once has about 0.
   */
  reset_after_s?: number | null;
  /** created only: seconds since that last status change. */
  since_reset_s?: number | null;
  /**
   * created only: the job came back to `created` at least `startupRecoverySeconds` after its creation
   * and no outbox row was written since (a republish or a resubmission writes one): Beacon's startup
   * recovery reset it from `processing` (job_recovery.go:28-38), and nothing will pick it up.
   */
  recovery_reset?: boolean | null;
  /** created only: the job's execution rows (from a run before the reset). */
  executions?: number | null;
}

export interface StuckThresholds {
  createdSeconds: number;
  queuedSeconds: number;
  processingSeconds: number;
  runningSeconds: number;
  executionRunningSeconds: number;
  finalizingSeconds: number;
  /** A row dated more than this many seconds ahead of the database clock is reported. */
  futureToleranceSeconds: number;
  /** Most rows returned per state. */
  limit: number;
  /** Beacon's startup recovery threshold (`beacon.runner.startupRecoverySeconds`): a `created` job last changed this long after its creation was reset. */
  startupRecoverySeconds: number;
  /** Most outbox rows read to find the stuck `created` jobs' rows. */
  outboxScanLimit: number;
}

/**
 * Statement 2: every stuck state of the contract sheet (§4), at most `limit` rows each, oldest first.
 * Each branch is an index range on jobs(status) / jobs(updated_at) / executions(status).
 *
 * The outbox has no job FK and no index on `payload->>'id'`, so the stuck `created` jobs' rows are
 * found in ONE range scan of outbox(created_at), newest first, from the oldest stuck job's creation
 * (its rows are written in its own transaction or later, by a republish), capped at
 * `outboxScanLimit` rows and matched by a hash of the (at most `limit`) stuck ids. With no stuck
 * job the range is empty and nothing is read. Each stuck `created` job also says whether Beacon's
 * startup recovery put it back there (see `recovery_reset`) and how many executions it has (index on
 * executions(job_id)).
 */
export function queryStuck(sql: SqlClient, tables: BeaconSettings["tables"], t: StuckThresholds): Promise<StuckRow[]> {
  const none = "NULL::int, NULL::int, NULL::text, NULL::float8, NULL::boolean";
  const noReset = "NULL::float8 AS reset_after_s, NULL::float8 AS since_reset_s, NULL::boolean AS recovery_reset, NULL::int AS executions";
  const jobsIn = (state: string, column: string, param: number) =>
    `(SELECT '${state}' AS state, jobspec_id::text AS id, ${ageOf(column)} AS age_s, ${none}, NULL::text AS job_id, NULL::text AS detail, ${noReset}
      FROM ${tables.jobs} WHERE status = '${state}' AND ${olderThan(column, param)}
      ORDER BY ${column} ASC LIMIT $6)`;
  // Rows dated ahead of the database clock (a writer's clock or time zone is off): each branch is the
  // top end of an index range, so it reads nothing when there are none.
  // Beacon has no index on executions(started_at) (nor does 007 add one): that branch reads only the
  // executions created in the last SKEW_SCAN (a range on executions(created_at)). A writer whose clock
  // runs ahead shows on every new row, and the probe runs far more often than that.
  const future = (table: string, idExpr: string, column: string, within?: string) =>
    `(SELECT 'future' AS state, ${idExpr} AS id, ${ageOf(column)} AS age_s, ${none}, NULL::text AS job_id,
        '${table}.${column} ' || to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS') AS detail, ${noReset}
      FROM ${table} WHERE ${column} > (now() AT TIME ZONE 'UTC') + make_interval(secs => $9)
        ${within ? `AND ${within} >= (now() AT TIME ZONE 'UTC') - interval '${SKEW_SCAN}'` : ""}
      ORDER BY ${column} DESC LIMIT $6)`;
  return sql.query<StuckRow & Record<string, unknown>>(
    `(WITH stuck AS (
        SELECT id AS job_pk, jobspec_id::text AS jobspec_id, created_at, updated_at FROM ${tables.jobs}
        WHERE status = 'created' AND ${olderThan("created_at", 1)}
        ORDER BY created_at ASC LIMIT $6
      ), scanned AS (
        SELECT ob.id, ob.payload->>'id' AS job, ob.published_at, ob.created_at FROM ${tables.outbox} ob
        WHERE ob.created_at >= (SELECT min(created_at) FROM stuck)
        ORDER BY ob.created_at DESC LIMIT $7
      ), matched AS (
        SELECT job, count(*)::int AS outbox_rows,
          count(*) FILTER (WHERE published_at IS NULL)::int AS outbox_unpublished,
          max(id)::text AS outbox_id, min(${ageOf("published_at")}) AS published_age_s, max(created_at) AS last_outbox_at
        FROM scanned WHERE job IN (SELECT jobspec_id FROM stuck) GROUP BY job
      )
      SELECT 'created' AS state, stuck.jobspec_id AS id, ${ageOf("stuck.created_at")} AS age_s,
        m.outbox_rows, m.outbox_unpublished, m.outbox_id, m.published_age_s,
        (SELECT count(*) FROM scanned) >= $7 AS scan_capped, NULL::text AS job_id, NULL::text AS detail,
        EXTRACT(EPOCH FROM stuck.updated_at - stuck.created_at)::float8 AS reset_after_s, ${ageOf("stuck.updated_at")} AS since_reset_s,
        stuck.updated_at - stuck.created_at >= make_interval(secs => $10)
          AND NOT COALESCE(m.last_outbox_at >= stuck.updated_at - interval '5 seconds', false) AS recovery_reset,
        (SELECT count(*)::int FROM ${tables.executions} e WHERE e.job_id = stuck.job_pk) AS executions
      FROM stuck LEFT JOIN matched m ON m.job = stuck.jobspec_id
      ORDER BY stuck.created_at ASC)
     UNION ALL ${jobsIn("queued", "created_at", 2)}
     UNION ALL ${jobsIn("processing", "updated_at", 3)}
     UNION ALL ${jobsIn("finalizing", "updated_at", 8)}
     UNION ALL ${jobsIn("running", "updated_at", 4)}
     UNION ALL
     (SELECT 'execution-running' AS state, id::text AS id, ${ageOf("COALESCE(started_at, created_at)")} AS age_s, ${none},
        job_id::text AS job_id, NULL::text AS detail, ${noReset}
      FROM ${tables.executions} WHERE status = 'running' AND ${olderThan("COALESCE(started_at, created_at)", 5)}
      ORDER BY COALESCE(started_at, created_at) ASC LIMIT $6)
     UNION ALL ${future(tables.jobs, "'job ' || jobspec_id", "created_at")}
     UNION ALL ${future(tables.jobs, "'job ' || jobspec_id", "updated_at")}
     UNION ALL ${future(tables.outbox, "'outbox row ' || id", "created_at")}
     UNION ALL ${future(tables.executions, "'execution ' || id", "created_at")}
     UNION ALL ${future(tables.executions, "'execution ' || id", "started_at", "created_at")}
     UNION ALL SELECT 'db-clock', '', EXTRACT(EPOCH FROM now())::float8, ${none}, NULL::text, NULL::text, ${noReset}`,
    [t.createdSeconds, t.queuedSeconds, t.processingSeconds, t.runningSeconds, t.executionRunningSeconds, t.limit, t.outboxScanLimit,
      t.finalizingSeconds, t.futureToleranceSeconds, t.startupRecoverySeconds],
  );
}
