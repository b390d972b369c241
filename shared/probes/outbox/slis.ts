import { z } from "zod";
import { check, type Check, type EventCounts } from "../../result.ts";
import type { BeaconSettings } from "../../beacon/settings.ts";
import type { SqlClient } from "../../sql.ts";

/**
 * The seed's two job SLIs, measured on every job in Beacon's database rather than on the canary alone:
 * submission → first execution start (`start-latency`, good when within `startWithinSeconds`) and
 * completed vs failed (`jobs`). A job counts once, when it reaches completed or failed: each run reads
 * the jobs whose status changed after the previous run's high-water mark (kept in the probe state)
 * and up to the database clock minus a settle margin. The canary's own jobs are left out (it reports
 * them itself).
 *
 * A job reaches a terminal status more than once when Beacon's timeout worker marks it `failed`
 * (processing over 15 min, `cmd/runner/main.go:228-239`) and its run then completes: the ids of jobs
 * counted as failed are kept (the newest `failedMemory`), and such a job is counted once, as failed,
 * with its later completion named in the evidence.
 */

/** The high-water mark: the last counted job's updated_at (database time, UTC text) and its id. */
export const JobsMark = z.object({ at: z.string().min(1), id: z.number().int() });
export type JobsMark = z.infer<typeof JobsMark>;

export const OutboxState = z.object({
  jobsMark: JobsMark.optional(),
  /** jobs.id of the jobs counted as failed, newest last: a later `completed` of one of them is not counted again. */
  countedFailed: z.array(z.number().int()).optional(),
}).loose();

/** Above every SERIAL id: a mark at the database clock excludes every job updated at that instant. */
const PAST_EVERY_ID = 2_147_483_647;

export interface FinishedJobsQuery {
  mark: JobsMark | undefined;
  /** Window of the first run (no mark yet), seconds. */
  initialWindowSeconds: number;
  /** The mark never reaches back further than this (a probe off for a day does not read a day). */
  maxWindowSeconds: number;
  /** Jobs updated in the last few seconds are left for the next run (a late commit is not lost). */
  settleSeconds: number;
  excludePrefix: string;
  limit: number;
}

export interface FinishedJobRow {
  now_mark: string;
  jobspec_id: string | null;
  status: string | null;
  mark: string | null;
  id: number | null;
  /** Seconds from the job's creation to its first execution's start; null when nothing started. */
  start_s: number | null;
}

/**
 * One statement: the finished jobs after the mark, oldest first (an index range on jobs(updated_at)),
 * each with its first execution start (index on executions(job_id)); always one row at least, which
 * carries the database clock.
 */
export function queryFinishedJobs(sql: SqlClient, tables: BeaconSettings["tables"], q: FinishedJobsQuery): Promise<FinishedJobRow[]> {
  return sql.query<FinishedJobRow & Record<string, unknown>>(
    `WITH clock AS (
       SELECT (now() AT TIME ZONE 'UTC') - make_interval(secs => $5) AS upto
     ), finished AS (
       -- The range is spelled out, not taken from the clock CTE: the planner sizes a range on now() (a
       -- handful of rows) but costs one on a CTE's column at a third of the table, and at 10^6 jobs it
       -- then read 38 000 blocks (0.8-1 s) instead of the index range (test/bench/schema-scale.ts).
       SELECT j.id, j.jobspec_id, j.status, j.created_at, j.updated_at FROM ${tables.jobs} j
       WHERE j.updated_at >= GREATEST(COALESCE($1::timestamp, (now() AT TIME ZONE 'UTC') - make_interval(secs => $3)),
                                      (now() AT TIME ZONE 'UTC') - make_interval(secs => $4))
         AND j.updated_at <= (now() AT TIME ZONE 'UTC') - make_interval(secs => $5)
         AND ($1::timestamp IS NULL OR j.updated_at > $1::timestamp OR j.id > $2::bigint)
         AND j.status IN ('completed', 'failed') AND left(j.jobspec_id, length($6)) <> $6
       ORDER BY j.updated_at ASC, j.id ASC LIMIT $7
     )
     SELECT to_char(c.upto, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS now_mark, f.jobspec_id::text AS jobspec_id, f.status,
       to_char(f.updated_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS mark, f.id,
       (SELECT EXTRACT(EPOCH FROM min(e.started_at) - f.created_at)::float8 FROM ${tables.executions} e WHERE e.job_id = f.id) AS start_s
     FROM clock c LEFT JOIN finished f ON true
     ORDER BY f.updated_at ASC NULLS FIRST, f.id ASC`,
    [q.mark?.at ?? null, q.mark?.id ?? 0, q.initialWindowSeconds, q.maxWindowSeconds, q.settleSeconds, q.excludePrefix, q.limit],
  );
}

export interface JobSlis {
  events: Record<"jobs" | "start-latency", EventCounts>;
  check: Check;
  mark: JobsMark;
  /** The ids counted as failed so far (the previous ones and this run's), at most `failedMemory`. */
  countedFailed: number[];
}

/** Events, the evidence check (`jobs-finished`) and the next mark, from one run's rows. */
export function judgeFinishedJobs(
  rows: FinishedJobRow[], previous: JobsMark | undefined, s: { startWithinSeconds: number; limit: number; failedMemory?: number },
  countedFailed: readonly number[] = [],
): JobSlis {
  const all = rows.filter((r): r is FinishedJobRow & { jobspec_id: string; status: string; mark: string; id: number } => r.jobspec_id !== null);
  // A job already counted as failed is not counted again when it reaches a terminal status once more.
  const seen = new Set(countedFailed);
  const again = all.filter((r) => seen.has(r.id));
  const jobs = all.filter((r) => !seen.has(r.id));
  const failed = jobs.filter((r) => r.status === "failed");
  const late = jobs.filter((r) => r.start_s === null || r.start_s > s.startWithinSeconds);
  const last = all.at(-1);
  // A full page may stop inside a run of equal timestamps: resume after its last job, not at the clock.
  const mark = last && all.length >= s.limit ? { at: last.mark, id: last.id } : { at: rows[0]?.now_mark ?? previous?.at ?? "", id: PAST_EVERY_ID };
  const since = previous ? `since ${previous.at.slice(0, 19)}Z` : "in the first window";
  const slowest = [...late].sort((a, b) => (b.start_s ?? Infinity) - (a.start_s ?? Infinity));
  const evidence = [
    ...failed.map((r) => `job ${r.jobspec_id}: failed`),
    ...slowest.map((r) => `job ${r.jobspec_id}: ${r.start_s === null ? "no execution ever started" : `first execution started ${Math.round(r.start_s)} s after submission`}`),
    ...again.map((r) => `job ${r.jobspec_id}: ${r.status} after it was counted failed (Beacon's timeout worker fails jobs processing over 15 min, and their run may still finish): counted once, as failed`),
  ];
  const slowestStarted = jobs.filter((r) => r.start_s !== null).sort((a, b) => b.start_s! - a.start_s!)[0];
  const slowestNote = slowestStarted ? `; slowest start ${Math.round(slowestStarted.start_s!)} s (job ${slowestStarted.jobspec_id})` : "";
  const againNote = again.length ? `; ${again.length} already counted as failed, not counted again` : "";
  const message = jobs.length === 0
    ? `no job finished ${since}${againNote}`
    : `${jobs.length} jobs finished ${since}: ${jobs.length - failed.length} completed, ${failed.length} failed; ${jobs.length - late.length} started within ${s.startWithinSeconds} s${slowestNote}${againNote}`;
  const memory = s.failedMemory ?? 1_000;
  return {
    events: {
      jobs: { good: jobs.length - failed.length, total: jobs.length },
      "start-latency": { good: jobs.length - late.length, total: jobs.length },
    },
    check: check({
      name: "jobs-finished", status: evidence.length ? "warn" : "pass", observed: failed.length + late.length,
      threshold: `0 failed, first execution within ${s.startWithinSeconds} s`, message, evidence,
    }),
    mark,
    countedFailed: [...countedFailed, ...failed.map((r) => r.id)].slice(-memory),
  };
}
