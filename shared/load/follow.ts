import type { Redis } from "@upstash/redis";
import type { BeaconSettings } from "../beacon/settings.ts";
import { boundedFetch, parseJson } from "../http.ts";
import type { SqlClient } from "../sql.ts";
import { withQuestionId } from "../beacon/question-column.ts";

/** One load job as last observed. Times are unix milliseconds on Beacon's clock (DB) or ours (API). */
export interface JobSighting {
  status: string;
  /** When the job row was written (DB) or the submit answered (API). */
  createdMs: number;
  /** First execution start, if any. */
  startedMs?: number;
  executions: number;
  /** Executions beyond one per (region, model, question): the same work done twice. */
  duplicateExecutions: number;
}

export interface FollowSources {
  fetch: typeof fetch;
  now(): Date;
  apiUrl: string;
  beacon: BeaconSettings;
  sql?: SqlClient;
  beaconRedis?: Redis;
  adminToken?: string;
  requestTimeoutMs: number;
}

/**
 * Statuses of many jobs in one statement (DB), keyed by jobspec id. Epochs of Beacon's UTC
 * `timestamp without time zone` columns are UTC epochs, so start minus creation is on one clock.
 * Without executions.question_id (007 not applied) duplicates are counted per (region, model) and
 * `questionIdMissing` is set on the map (question-column.ts).
 */
export async function sightingsFromDb(sql: SqlClient, tables: BeaconSettings["tables"], ids: string[]): Promise<Map<string, JobSighting> & { questionIdMissing?: boolean }> {
  const { value: rows, questionIdMissing } = await withQuestionId((column) => sql.query<{ id: string; status: string; created: number; started: number | null; n: number; dup: number }>(
    `SELECT j.jobspec_id AS id, j.status, EXTRACT(EPOCH FROM j.created_at)::float8 * 1000 AS created,
       e.started, COALESCE(e.n, 0)::int AS n, COALESCE(e.dup, 0)::int AS dup
     FROM ${tables.jobs} j
     LEFT JOIN LATERAL (
       SELECT EXTRACT(EPOCH FROM min(x.started_at))::float8 * 1000 AS started, count(*) AS n,
         count(*) - count(DISTINCT (x.region, x.model_id, ${column("x")})) AS dup
       FROM ${tables.executions} x WHERE x.job_id = j.id
     ) e ON true
     WHERE j.jobspec_id = ANY($1::text[])`,
    [ids],
  ));
  const seen: Map<string, JobSighting> & { questionIdMissing?: boolean } = new Map(rows.map((r) => [r.id, {
    status: r.status, createdMs: r.created, executions: r.n, duplicateExecutions: r.dup,
    ...(r.started != null ? { startedMs: r.started } : {}),
  }]));
  if (questionIdMissing) seen.questionIdMissing = true;
  return seen;
}

/**
 * Without the database: `GET /jobs/:id?include=executions` per job (at most 8 at a time); the start is
 * the earliest receipt's `execution_details.started_at`, on Beacon's clock, against our submit time.
 */
export async function sightingsFromApi(src: FollowSources, jobs: { id: string; submittedMs: number }[]): Promise<Map<string, JobSighting>> {
  const out = new Map<string, JobSighting>();
  const queue = [...jobs];
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const url = new URL(`${src.beacon.routes.jobs}/${encodeURIComponent(job.id)}?include=executions&exec_limit=50`, src.apiUrl).href;
      const res = await boundedFetch(url, { fetch: src.fetch, now: src.now, timeoutMs: src.requestTimeoutMs, maxBytes: 4 * 1024 * 1024 });
      if (!res.ok || res.status !== 200) continue;
      const body = parseJson(res.text);
      const value = (body.ok ? body.value : {}) as { status?: unknown; executions?: unknown };
      const receipts = Array.isArray(value.executions) ? (value.executions as { execution_details?: { started_at?: unknown } }[]) : [];
      const starts = receipts.map((r) => Date.parse(String(r.execution_details?.started_at ?? ""))).filter((t) => !Number.isNaN(t));
      out.set(job.id, {
        status: typeof value.status === "string" ? value.status : "unknown", createdMs: job.submittedMs,
        executions: receipts.length, duplicateExecutions: Math.max(0, receipts.length - 1),
        ...(starts.length ? { startedMs: Math.min(...starts) } : {}),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, jobs.length) }, worker));
  return out;
}

/** The main queue's depth: LLEN when Beacon's Redis is configured, else `/admin/queue-stats` (caller spaces it 10 s+). */
export async function queueDepth(src: FollowSources, via: "redis" | "admin"): Promise<number | undefined> {
  if (via === "redis") return Number(await src.beaconRedis!.llen(src.beacon.queue.name));
  const res = await boundedFetch(new URL(src.beacon.routes.queueStats, src.apiUrl).href, {
    fetch: src.fetch, now: src.now, timeoutMs: src.requestTimeoutMs, maxBytes: 64 * 1024, headers: { authorization: `Bearer ${src.adminToken}` },
  });
  if (!res.ok || res.status !== 200) return undefined;
  const body = parseJson(res.text);
  const main = body.ok ? (body.value as { main?: unknown }).main : undefined;
  return typeof main === "number" ? main : undefined;
}

export interface MetricsSample {
  heapAllocBytes?: number;
  /** Sum of `runner_queue_latency_seconds_count`: one per job the runner picked up. */
  pickups?: number;
  /** `jobs_enqueued_total`: one per accepted submit, ours or anyone's. */
  enqueued?: number;
}

/** `/metrics` values the report uses; undefined when the target has no Prometheus endpoint. */
export async function metricsSample(src: FollowSources): Promise<MetricsSample | undefined> {
  const res = await boundedFetch(new URL(src.beacon.routes.metrics, src.apiUrl).href, { fetch: src.fetch, now: src.now, timeoutMs: src.requestTimeoutMs, maxBytes: 2 * 1024 * 1024 });
  if (!res.ok || res.status !== 200) return undefined;
  // A family that is declared but has no series yet counts 0; one that is not exposed is unknown.
  const sum = (name: string, family = name) => {
    const values = [...res.text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "gm"))].map((m) => Number(m[1]));
    if (values.length) return values.reduce((a, b) => a + b, 0);
    return new RegExp(`^# TYPE ${family} `, "m").test(res.text) ? 0 : undefined;
  };
  const heap = sum("memory_heap_alloc_bytes");
  const pickups = sum("runner_queue_latency_seconds_count", "runner_queue_latency_seconds");
  const enqueued = sum("jobs_enqueued_total");
  return { ...(heap !== undefined ? { heapAllocBytes: heap } : {}), ...(pickups !== undefined && enqueued !== undefined ? { pickups, enqueued } : {}) };
}
