import type { BeaconSettings } from "../../beacon/settings.ts";
import { routerRegionParams, routerRegionSql, type RegionNames } from "../../beacon/regions.ts";
import type { SqlClient } from "../../sql.ts";

/**
 * The regions probe's one statement. Three kinds of rows, each bounded:
 * - `cell`: executions of the grid window (default 24 h; a range on executions(created_at), newest first,
 *   at most `gridRowLimit` rows: the `clock` row says how many were read and how far back they reach) grouped by
 *   region, model, outcome and failure cause (`output_data.failure` code/stage/component/transient),
 *   counted over the grid window and the judging window, with the newest example ids, the technical-error
 *   and refusal counts, and the finished executions past the SLI mark (a new execution id);
 * - `ask`: per region named by the jobs created in the judging window (range on jobs(created_at)), how
 *   many asked for it and which have no execution there (the (job_id, region, …) index);
 * - `queued`: the oldest `queued` jobs (index on jobs(status, created_at)), for restart-lost jobs;
 * - `portal`: the portal path's own record of its finished runs of the judging window (range on
 *   cross_region_executions(created_at)), per region asked: the region_results row's status and
 *   error_message, or none when the run did not plan the region (no provider listed for it,
 *   `cross_region_executor.go:281-292`). The portal path keeps a failed region's cause only there
 *   (`cross_region_handlers.go:366-428`; its failed execution rows have NULL output).
 * Regions are compared under the router's names (`beacon.regions`): a JobSpec's codes as the worker maps
 * them (US -> us-east, unknown -> eu-west), and stored rows too, since the portal's cross-region path
 * stores the raw codes (`US`, `EU`) where the worker stores `us-east`.
 *
 * A failure is technical when the runner recorded a cause in `output_data` (`failure`, `error_code`):
 * Beacon never writes `is_technical_error`. A `ROUTER_NETWORK` failure that took at least the runner's
 * HTTP client timeout is the router or provider not answering: it is counted as timed out, with its delay.
 */
export interface RegionRow {
  kind: "cell" | "ask" | "queued" | "clock" | "portal";
  region: string | null;
  model: string | null;
  /** cell: completed | failed | timeout | started (pending, running, retrying, anything else); portal: region_results.status (null: no row). */
  outcome: string | null;
  /** cell, timeout outcome: the longest the runner waited on the router (completed_at - started_at), seconds. */
  max_wait_s?: number | null;
  code: string | null;
  stage: string | null;
  component: string | null;
  transient: boolean | null;
  n_grid: number | null;
  n_window: number | null;
  n_new: number | null;
  technical: number | null;
  refusals: number | null;
  max_id: number | null;
  /** cell: newest execution ids; ask: job ids with no execution in the region (n_window: how many); queued: [jobspec id]. */
  ids: (string | number)[] | null;
  /** ask: jobs that asked; queued: created_at as epoch seconds; clock: the database clock, epoch seconds.
   * clock: n_grid = executions the grid read, n_window = seconds back to the oldest of them. */
  value: number | null;
}

export interface RegionsQuery {
  windowSeconds: number;
  gridWindowSeconds: number;
  /** Highest execution id already counted as an SLI event; null on the first run. */
  mark: number | null;
  initialWindowSeconds: number;
  askedSettleSeconds: number;
  exampleIds: number;
  queuedLimit: number;
  regionNames: RegionNames;
  /** The runner's HTTP client timeout on the router, seconds (`beacon.runner.routerClientTimeoutSeconds`). */
  routerClientTimeoutSeconds: number;
  /** Most executions the grid reads, newest first. */
  gridRowLimit: number;
}

export function queryRegions(sql: SqlClient, tables: BeaconSettings["tables"], q: RegionsQuery): Promise<RegionRow[]> {
  const { jobs, executions, crossRegionExecutions, regionResults } = tables;
  return sql.query<RegionRow & Record<string, unknown>>(
    `WITH clock AS (SELECT now() AT TIME ZONE 'UTC' AS now),
     recent AS (
       SELECT e.id, e.created_at, ${routerRegionSql("e.region", 8, "stored")} AS region, COALESCE(e.model_id, '') AS model,
         e.created_at >= c.now - make_interval(secs => $1) AS in_window,
         CASE WHEN e.status = 'completed' THEN 'completed'
              WHEN e.status = 'timeout' OR e.output_data->'failure'->>'code' = 'ROUTER_TIMEOUT' THEN 'timeout'
              WHEN e.status IN ('failed', 'error', 'cancelled') AND COALESCE(e.output_data->'failure'->>'code', e.output_data->>'error_code') = 'ROUTER_NETWORK'
                AND e.completed_at - e.started_at >= make_interval(secs => $11 * 0.95) THEN 'timeout'
              WHEN e.status IN ('failed', 'error', 'cancelled') THEN 'failed' ELSE 'started' END AS outcome,
         EXTRACT(EPOCH FROM e.completed_at - e.started_at)::float8 AS wait_s,
         COALESCE(e.output_data->'failure'->>'code', e.output_data->>'error_code') AS code,
         e.output_data->'failure'->>'stage' AS stage, e.output_data->'failure'->>'component' AS component,
         CASE WHEN jsonb_typeof(e.output_data->'failure'->'transient') = 'boolean' THEN (e.output_data->'failure'->>'transient')::boolean END AS transient,
         COALESCE(e.is_technical_error, false) OR (e.status <> 'completed' AND (e.output_data ? 'failure' OR e.output_data ? 'error_code')) AS technical,
         COALESCE(e.is_content_refusal, false) OR e.response_classification = 'content_refusal' AS refusal,
         ($3::bigint IS NULL AND e.created_at >= c.now - make_interval(secs => $4)) OR e.id > $3::bigint AS is_new
       FROM (SELECT * FROM ${executions} x WHERE x.created_at >= (now() AT TIME ZONE 'UTC') - make_interval(secs => $2)
             ORDER BY x.created_at DESC LIMIT $12) e, clock c
     ), asked AS (
       SELECT j.id, j.jobspec_id, x.region,
         EXISTS (SELECT 1 FROM ${executions} e WHERE e.job_id = j.id AND ${routerRegionSql("e.region", 8, "stored")} = x.region) AS answered
       FROM ${jobs} j, clock c, jsonb_array_elements_text(CASE WHEN jsonb_typeof(j.jobspec_data->'constraints'->'regions') = 'array'
         THEN j.jobspec_data->'constraints'->'regions' ELSE '[]'::jsonb END) r(region),
         LATERAL (SELECT ${routerRegionSql("r.region", 8, "asked")} AS region) x
       WHERE j.created_at >= c.now - make_interval(secs => $1) AND j.created_at <= c.now - make_interval(secs => $5)
         -- A job still in created never reached a worker (no outbox row, or not yet published): its missing
         -- executions are the outbox's or the queue's to report, not a region's.
         AND j.status <> 'created'
     ), portal AS (
       SELECT x.region, left(rr.error_message, 120) AS error, c.jobspec_id, rr.duration_ms,
         -- No row for an asked region: not planned (no provider for it), or nothing planned at all (the plan failed).
         COALESCE(rr.status, CASE WHEN planned.one IS NULL THEN 'unplanned' END) AS status
       FROM ${crossRegionExecutions} c
       JOIN ${jobs} j ON j.jobspec_id = c.jobspec_id
       CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(j.jobspec_data->'constraints'->'regions') = 'array'
         THEN j.jobspec_data->'constraints'->'regions' ELSE '[]'::jsonb END) r(region)
       CROSS JOIN LATERAL (SELECT ${routerRegionSql("r.region", 8, "asked")} AS region) x
       LEFT JOIN ${regionResults} rr ON rr.cross_region_execution_id = c.id AND ${routerRegionSql("rr.region", 8, "stored")} = x.region
       -- Whether the run planned anything at all: one row looked up by the run's id (an EXISTS was planned
       -- as a hashed scan of the whole table: 10^6 rows at Beacon's scale, npm run bench:schema).
       LEFT JOIN LATERAL (SELECT 1 AS one FROM ${regionResults} o WHERE o.cross_region_execution_id = c.id LIMIT 1) planned ON true
       WHERE c.created_at >= now() - make_interval(secs => $1) AND c.status <> 'running'
     )
     SELECT 'cell' AS kind, region, model, outcome, code, stage, component, transient,
       count(*)::int AS n_grid, count(*) FILTER (WHERE in_window)::int AS n_window,
       count(*) FILTER (WHERE is_new AND outcome <> 'started')::int AS n_new,
       count(*) FILTER (WHERE technical)::int AS technical,
       count(*) FILTER (WHERE refusal)::int AS refusals, max(id)::bigint AS max_id,
       max(wait_s) FILTER (WHERE outcome = 'timeout') AS max_wait_s,
       to_jsonb((array_agg(id ORDER BY in_window DESC, id DESC))[1:$6]) AS ids, NULL::float8 AS value
     FROM recent GROUP BY region, model, outcome, code, stage, component, transient
     UNION ALL
     SELECT 'ask', a.region, NULL, NULL, NULL, NULL, NULL, NULL, NULL, count(DISTINCT a.id) FILTER (WHERE NOT a.answered)::int,
       NULL, NULL, NULL, NULL, NULL,
       to_jsonb((array_agg(DISTINCT a.jobspec_id::text) FILTER (WHERE NOT a.answered))[1:$6]),
       count(DISTINCT a.id)::float8
     FROM asked a GROUP BY a.region
     UNION ALL
     SELECT 'queued', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       jsonb_build_array(q.jobspec_id::text), EXTRACT(EPOCH FROM q.created_at)::float8
     FROM (SELECT jobspec_id, created_at FROM ${jobs} WHERE status = 'queued' ORDER BY created_at ASC LIMIT $7) q
     UNION ALL
     SELECT 'portal', p.region, NULL, p.status, p.error, NULL, NULL, NULL, count(*)::int, NULL, NULL, NULL, NULL, NULL,
       (max(p.duration_ms) / 1000.0)::float8, to_jsonb((array_agg(p.jobspec_id::text ORDER BY p.jobspec_id DESC))[1:$6]), NULL
     FROM portal p GROUP BY p.region, p.status, p.error
     UNION ALL
     SELECT 'clock', NULL, NULL, NULL, NULL, NULL, NULL, NULL, (SELECT count(*) FROM recent)::int,
       (SELECT EXTRACT(EPOCH FROM c.now - min(created_at))::int FROM recent), NULL, NULL, NULL, NULL, NULL, NULL, EXTRACT(EPOCH FROM c.now)::float8 FROM clock c`,
    [q.windowSeconds, q.gridWindowSeconds, q.mark, q.initialWindowSeconds, q.askedSettleSeconds, q.exampleIds, q.queuedLimit,
      ...routerRegionParams(q.regionNames), q.routerClientTimeoutSeconds, q.gridRowLimit],
  );
}
