import type { BeaconSettings } from "../beacon/settings.ts";
import type { SqlClient } from "../sql.ts";
import type { OutboxSettings } from "../probes/outbox/settings.ts";
import { queryOutbox, queryStuck, type OutboxRow, type StuckRow } from "../probes/outbox/queries.ts";

/**
 * What remediation knows about Beacon before deciding: the outbox probe's own two statements (so a
 * stuck job is found and classified exactly as the probe reports it), plus, for jobs a caller names,
 * their current status.
 */
export interface Gathered {
  /** Statement 1 of the outbox probe, with the unpublished sample only: the backlog and its envelopes. */
  outbox: OutboxRow[];
  /** Statement 2 of the outbox probe, `created` rows only: stuck jobs with their outbox rows. */
  stuck: StuckRow[];
  /** The named jobs as they are now (absent ones are missing from the list). */
  named: JobNow[];
}

export interface JobNow {
  id: string;
  status: string;
  /** Seconds since the job was created. */
  age_s: number;
  /** Outbox rows naming the job that are still unpublished. */
  unpublished: number;
  /** Set when Beacon's queue still holds the job's message (or could not be read): why not to republish. */
  queued?: string;
}

export async function gather(sql: SqlClient, beacon: BeaconSettings, s: OutboxSettings, jobIds: string[]): Promise<Gathered> {
  const { tables } = beacon;
  const [outbox, stuck, named] = await Promise.all([
    queryOutbox(sql, tables, { unpublishedSample: s.unpublishedSampleSize, recentSample: 0, countCap: s.countCap }),
    queryStuck(sql, tables, {
      createdSeconds: s.createdMaxSeconds, queuedSeconds: s.queuedMaxSeconds, processingSeconds: s.processingMaxSeconds,
      runningSeconds: s.runningMaxSeconds, executionRunningSeconds: s.executionRunningMaxSeconds, limit: s.stuckSampleLimit,
      outboxScanLimit: s.outboxScanLimit, finalizingSeconds: s.finalizingMaxSeconds, futureToleranceSeconds: s.clockSkewToleranceSeconds,
      startupRecoverySeconds: beacon.runner.startupRecoverySeconds,
    }),
    jobIds.length ? jobsNow(sql, beacon, jobIds) : Promise.resolve([]),
  ]);
  return { outbox, stuck: stuck.filter((r) => r.state === "created"), named };
}

/**
 * Status, age and unpublished outbox rows of the given jobs, now: used for named jobs and again right
 * before each republish (minutes can pass between planning and acting). One probe of the unique
 * jobs(jobspec_id) index per id; the unpublished rows come from the outbox(published_at) index.
 */
export function jobsNow(sql: SqlClient, beacon: BeaconSettings, jobIds: string[]): Promise<JobNow[]> {
  const { jobs, outbox } = beacon.tables;
  return sql.query<JobNow & Record<string, unknown>>(
    `WITH unpublished AS (
       SELECT payload->>'id' AS job FROM ${outbox} WHERE published_at IS NULL AND jsonb_typeof(payload) = 'object'
     )
     SELECT j.jobspec_id::text AS id, j.status::text AS status,
       EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - j.created_at)::float8 AS age_s,
       (SELECT count(*) FROM unpublished u WHERE u.job = j.jobspec_id)::int AS unpublished
     FROM ${jobs} j WHERE j.jobspec_id = ANY($1::text[])`,
    [jobIds],
  );
}
