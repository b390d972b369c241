import { JobDetailsEnvelope } from "../../beacon/api.ts";
import { errorText } from "../../error-text.ts";
import { beaconQueueKeys } from "../../beacon/settings.ts";
import { withQuestionId } from "../../beacon/question-column.ts";
import type { ProbeContext } from "../types.ts";
import { readJson, type JsonRead } from "../receipts/fetch.ts";
import type { CanarySettings } from "./settings.ts";

/**
 * What one invocation sees of a canary job. Every time is in seconds since the job row's `created_at`,
 * computed in SQL on Beacon's own clock, so the stages are timed exactly however rarely we look.
 */
export interface DbFacts {
  status: string;
  outboxRows: number;
  outboxS: number | null;
  publishedS: number | null;
  outboxId: string | null;
  /** The row the publisher works on first (`ORDER BY id`): older than ours means it is stuck on it. */
  oldestUnpublishedId: string | null;
  /**
   * A row newer than the oldest unpublished one was published: the publisher runs and skips that row
   * (stuck on it), rather than publishing nothing (stopped or failing). Read from the primary key's
   * range after that row, so at worst the unpublished backlog is walked.
   */
  publishedPastOldest: boolean | null;
  /** `updated_at`, which is the pickup time while the status is `processing`. */
  updatedS: number;
  /** Seconds since `updated_at` on Beacon's database clock (the portal path's `created_at` is the submitter's clock). */
  sinceUpdateS?: number;
  executions: number;
  startedS: number | null;
  completedS: number | null;
  completed: number;
  failed: number;
  /**
   * Completed executions without a receipt (the hybrid path: `receipt_data` NULL), with the length of
   * their trimmed `output_data.response` (null when there is none): where the answer lives there.
   */
  outputAnswers?: { execution: number; question_id: string | null; chars: number | null }[] | null;
  /** The runner's own causes of its failed executions (`output_data.error_code`, hybrid path), e.g. ROUTER_ERROR. */
  failureCodes?: string[] | null;
  /**
   * The portal path's own record (`cross_region_executions`, `region_results`): the run's status and each
   * region's status and error_message, where it keeps the cause its failed rows lack. Null: no record.
   */
  crossRegion?: { status: string; regions: { region: string; status: string; error: string | null }[] | null } | null;
  /** Beacon's database lacks executions.question_id (007 not applied): the runner can store no execution. */
  questionIdMissing?: boolean;
}

export interface QueueFacts {
  key: string;
  depth: number;
  /** The canary's envelope is waiting in the main list. */
  waiting: boolean;
  /** Raw dead-letter / retry entry that names the canary, if any. */
  dead?: string;
  retry?: string;
}

export interface Observation {
  /** Undefined: no SQL configured. `null`: no job row. */
  db?: DbFacts | null | { error: string };
  queue?: QueueFacts | { error: string };
  api: JsonRead<JobDetailsEnvelope>;
  /** The same details read through the portal's proxy (BEACON_PORTAL_URL only). */
  portal?: JsonRead<JobDetailsEnvelope>;
}

type Ctx = ProbeContext<CanarySettings>;

export async function observe(ctx: Ctx, id: string, apiUrl: string): Promise<Observation> {
  const path = `${ctx.beacon.routes.jobs}/${encodeURIComponent(id)}?include=executions&exec_limit=10`;
  const read = (base: string) => readJson(ctx, new URL(path, base).href, JobDetailsEnvelope, { timeoutMs: ctx.settings.requestTimeoutMs, maxBytes: ctx.settings.maxBodyBytes });
  const { portalUrl } = ctx.targets;
  const [db, api, portal] = await Promise.all([
    ctx.deps.sql ? readDb(ctx, id).catch((e: unknown) => ({ error: message(e) })) : undefined,
    read(apiUrl),
    portalUrl ? read(portalUrl) : undefined,
  ]);
  const status = db && !("error" in db) ? db?.status : api.ok ? api.value.status : undefined;
  // The queue is only read while the job has not been picked up: that is when it can tell us why.
  const queue = ctx.deps.beaconRedis && (status === undefined || status === "created")
    ? await readQueue(ctx, id).catch((e: unknown) => ({ error: message(e) }))
    : undefined;
  return { ...(db === undefined ? {} : { db }), ...(queue ? { queue } : {}), api, ...(portal ? { portal } : {}) };
}

const since = (column: string) => `EXTRACT(EPOCH FROM ${column} - j.created_at)::float8`;

/**
 * One read-only statement: the job row, its outbox rows (found by a range on outbox(created_at) from the
 * job's creation, as the outbox probe does: there is no index on the payload id) and its executions
 * (run again without question_id where 007 was not applied: question-column.ts).
 */
async function readDb(ctx: Ctx, id: string): Promise<DbFacts | null> {
  const { jobs, outbox, executions, crossRegionExecutions, regionResults } = ctx.beacon.tables;
  const { value: rows, questionIdMissing } = await withQuestionId((column) => ctx.deps.sql!.query<DbFacts & Record<string, unknown>>(
    `WITH j AS (SELECT id, status, created_at, updated_at FROM ${jobs} WHERE jobspec_id = $1)
     SELECT j.status, ${since("j.updated_at")} AS "updatedS", EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - j.updated_at)::float8 AS "sinceUpdateS",
       o.rows AS "outboxRows", o.first_s AS "outboxS", o.published_s AS "publishedS", o.outbox_id AS "outboxId",
       (SELECT min(id)::text FROM ${outbox} WHERE published_at IS NULL) AS "oldestUnpublishedId",
       EXISTS (SELECT 1 FROM ${outbox} p WHERE p.id > (SELECT min(id) FROM ${outbox} WHERE published_at IS NULL) AND p.published_at IS NOT NULL) AS "publishedPastOldest",
       e.n AS executions, e.started_s AS "startedS", e.completed_s AS "completedS", e.completed, e.failed, e."outputAnswers", e."failureCodes",
       (SELECT jsonb_build_object('status', c.status, 'regions', (SELECT jsonb_agg(jsonb_build_object('region', rr.region, 'status', rr.status,
            'error', left(rr.error_message, 160)) ORDER BY rr.region) FROM ${regionResults} rr WHERE rr.cross_region_execution_id = c.id))
          FROM ${crossRegionExecutions} c WHERE c.jobspec_id = $1 ORDER BY c.created_at DESC LIMIT 1) AS "crossRegion"
     FROM j
     LEFT JOIN LATERAL (
       SELECT count(*)::int AS rows, min(${since("ob.created_at")}) AS first_s, min(${since("ob.published_at")}) AS published_s,
         min(ob.id)::text AS outbox_id
       FROM ${outbox} ob WHERE ob.created_at >= j.created_at - interval '5 seconds' AND ob.payload->>'id' = $1
     ) o ON true
     LEFT JOIN LATERAL (
       SELECT count(*)::int AS n, min(${since("x.started_at")}) AS started_s,
         (max(${since("x.completed_at")}) FILTER (WHERE x.status = 'completed'))::float8 AS completed_s,
         (count(*) FILTER (WHERE x.status = 'completed'))::int AS completed,
         (count(*) FILTER (WHERE x.status IN ('failed', 'timeout', 'error', 'cancelled')))::int AS failed,
         jsonb_agg(jsonb_build_object('execution', x.id, 'question_id', ${column("x")},
             'chars', CASE WHEN jsonb_typeof(x.output_data->'response') = 'string' THEN length(btrim(x.output_data->>'response')) END))
           FILTER (WHERE x.status = 'completed' AND x.receipt_data IS NULL) AS "outputAnswers",
         array_agg(DISTINCT x.output_data->>'error_code')
           FILTER (WHERE x.status IN ('failed', 'timeout', 'error') AND x.output_data->>'error_code' IS NOT NULL) AS "failureCodes"
       FROM ${executions} x WHERE x.job_id = j.id
     ) e ON true`,
    [id],
  ));
  const row = rows[0];
  return row ? { ...row, ...(questionIdMissing ? { questionIdMissing } : {}) } : null;
}

/** One pipelined request: depth, the main list (up to the scan limit), the dead list and the retry set. */
async function readQueue(ctx: Ctx, id: string): Promise<QueueFacts> {
  const keys = beaconQueueKeys(ctx.beacon.queue.name);
  const s = ctx.settings;
  const p = ctx.deps.beaconRedis!.pipeline();
  p.llen(keys.main);
  p.lrange(keys.main, 0, s.queueScanLimit - 1);
  p.lrange(keys.dead, 0, s.deadScanLimit - 1);
  p.zrange(keys.retry, 0, s.deadScanLimit - 1);
  const [depth, main, dead, retry] = (await p.exec()) as [unknown, unknown, unknown, unknown];
  const quoted = `"${id}"`;
  const find = (list: unknown) => (Array.isArray(list) ? list.map(String).find((raw) => raw.includes(quoted)) : undefined);
  const deadHit = find(dead);
  const retryHit = find(retry);
  return {
    key: keys.main, depth: Number(depth) || 0, waiting: find(main) !== undefined,
    ...(deadHit ? { dead: deadHit } : {}), ...(retryHit ? { retry: retryHit } : {}),
  };
}

function message(error: unknown): string {
  return errorText(error);
}
