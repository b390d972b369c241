/**
 * `npm run bench:schema`: every statement the sentinel's probes send to Beacon's database, at scale,
 * on the schema our sandbox creates (test/sandbox/schema.sql.ts), with and without the index that
 * Beacon's hand-applied `007_add_question_id_to_executions.sql` creates
 * (`idx_executions_dedup_with_question`). Not part of `npm test`: it fills a schema of its own with
 * generate_series (BENCH_JOBS jobs, 10 executions each; default 10^5 / 10^6, set BENCH_JOBS=1000000 for
 * 10^6 / 10^7), runs each probe's statement through the probe's own query function with its default
 * settings, and prints EXPLAIN (ANALYZE, BUFFERS) figures: time, seq scans on big tables, sorts that
 * spilled to disk. Times are printed, never asserted.
 */
import { closePool, createSqlPool } from "../../shared/db.ts";
import { createSqlClient, type SqlClient } from "../../shared/sql.ts";
import { BeaconSettings } from "../../shared/beacon/settings.ts";
import { OutboxSettings } from "../../shared/probes/outbox/settings.ts";
import { RegionsSettings } from "../../shared/probes/regions/settings.ts";
import { ReceiptsSettings } from "../../shared/probes/receipts/settings.ts";
import { queryOutbox, queryStuck } from "../../shared/probes/outbox/queries.ts";
import { queryFinishedJobs } from "../../shared/probes/outbox/slis.ts";
import { queryRegions } from "../../shared/probes/regions/query.ts";
import { queryJobAnswers } from "../../shared/probes/receipts/answers-sql.ts";
import { CANARY_ID_PREFIX } from "../../shared/probes/canary/definition.ts";
import { SCHEMA_SQL } from "../sandbox/schema.sql.ts";
import { startServices } from "../support/services.ts";
import { isolatedDatabase } from "../support/isolation.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 100_000);
const PER_JOB = 10;
const DAYS = 30;
if (!Number.isInteger(JOBS) || JOBS < 1000) throw new Error(`BENCH_JOBS must be an integer >= 1000, got ${process.env.BENCH_JOBS}`);
const INDEX_007 = "idx_executions_dedup_with_question";

const services = await startServices();
const db = await isolatedDatabase(services);
const pool = createSqlPool({ connectionString: db.connectionString, wsProxy: services.postgres.wsProxy, max: 2 });
const started = Date.now();
try {
  await pool.query(SCHEMA_SQL);
  await fill();
  console.log(`filled ${JOBS} jobs, ${JOBS * PER_JOB} executions, ${JOBS} outbox rows, ${JOBS / 2} cross-region runs with ${JOBS} region results over ${DAYS} days in ${((Date.now() - started) / 1000).toFixed(0)} s (${services.postgres.engine})`);
  for (const with007 of [true, false]) {
    if (!with007) await pool.query(`DROP INDEX ${INDEX_007}`);
    await pool.query("ANALYZE jobs; ANALYZE executions; ANALYZE outbox; ANALYZE cross_region_executions; ANALYZE region_results");
    console.log(`\n== ${with007 ? "with" : "without"} ${INDEX_007} ==`);
    await measureAll();
  }
} finally {
  await closePool(pool);
  // BENCH_KEEP=1 leaves the filled schema for a look with psql (search_path=<schema>).
  if (process.env.BENCH_KEEP === "1") console.log(`kept schema ${db.schema}`);
  else await db.drop();
  await services.close();
}

/**
 * Jobs spread evenly over the last DAYS days (so the probes' windows see a realistic slice), 10
 * executions per job in the runner's shapes (worker region names and the portal's raw codes, a failed
 * tenth with the hybrid failure object), one published outbox row per job, and a few jobs left in
 * every stuck state.
 */
async function fill(): Promise<void> {
  const step = `(interval '${DAYS} days' / ${JOBS})`;
  await pool.query(`
    INSERT INTO jobs (id, jobspec_id, jobspec_data, status, created_at, updated_at)
    SELECT i, 'job-' || i,
      jsonb_build_object('id', 'job-' || i, 'constraints', jsonb_build_object('regions', '["US","EU"]'::jsonb),
        'metadata', jsonb_build_object('model_id', 'llama3.2-1b'),
        'questions', '[{"question_id":"q1","question":"What happened?"}]'::jsonb),
      CASE WHEN i % 50 = 0 THEN 'failed' WHEN i > ${JOBS} - 20 THEN 'queued' ELSE 'completed' END,
      (now() AT TIME ZONE 'UTC') - (${JOBS} - i) * ${step},
      (now() AT TIME ZONE 'UTC') - (${JOBS} - i) * ${step} + interval '90 seconds'
    FROM generate_series(1, ${JOBS}) i`);
  await pool.query(`SELECT setval(pg_get_serial_sequence('jobs', 'id'), ${JOBS})`);
  await pool.query(`
    INSERT INTO executions (id, job_id, provider_id, region, status, started_at, completed_at, created_at, output_data, receipt_data, model_id, question_id)
    SELECT k, j, 'modal-us-east', (ARRAY['us-east', 'eu-west', 'US', 'EU'])[1 + k % 4],
      CASE WHEN k % 10 = 0 THEN 'failed' ELSE 'completed' END,
      t + interval '5 seconds', t + interval '35 seconds', t + interval '5 seconds',
      CASE WHEN k % 10 = 0
        THEN jsonb_build_object('error', 'router timed out', 'error_code', 'ROUTER_NETWORK', 'failure',
          jsonb_build_object('code', 'ROUTER_NETWORK', 'stage', 'inference', 'component', 'hybrid_router', 'transient', true))
        ELSE jsonb_build_object('response', 'An answer of some length.', 'provider', 'modal-us-east') END,
      CASE WHEN k % 10 = 0 THEN NULL ELSE jsonb_build_object('schema_version', 'v1',
        'output', jsonb_build_object('response', 'An answer of some length.', 'prompt', 'What happened?')) END,
      (ARRAY['llama3.2-1b', 'mistral-7b', 'qwen2.5-1.5b'])[1 + k % 3], 'q' || (1 + k % 5)
    FROM (SELECT k, (k - 1) / ${PER_JOB} + 1 AS j,
            (now() AT TIME ZONE 'UTC') - (${JOBS} - ((k - 1) / ${PER_JOB} + 1)) * ${step} AS t
          FROM generate_series(1, ${JOBS * PER_JOB}) k) g`);
  await pool.query(`SELECT setval(pg_get_serial_sequence('executions', 'id'), ${JOBS * PER_JOB})`);
  await pool.query(`
    INSERT INTO outbox (topic, payload, created_at, published_at)
    SELECT 'jobs', jsonb_build_object('id', 'job-' || i, 'enqueued_at', now()),
      (now() AT TIME ZONE 'UTC') - (${JOBS} - i) * ${step},
      CASE WHEN i > ${JOBS} - 5 THEN NULL ELSE (now() AT TIME ZONE 'UTC') - (${JOBS} - i) * ${step} + interval '1 second' END
    FROM generate_series(1, ${JOBS}) i`);
  // The portal path's own record (migration 0007): every other job ran through the cross-region route,
  // one run each with a result per region (US, EU), a tenth of them failed with the runner's error text.
  await pool.query(`
    INSERT INTO cross_region_executions (jobspec_id, total_regions, success_count, failure_count, min_regions_required, status, started_at, completed_at, duration_ms, created_at, updated_at)
    SELECT 'job-' || i, 2, CASE WHEN i % 20 = 0 THEN 1 ELSE 2 END, CASE WHEN i % 20 = 0 THEN 1 ELSE 0 END, 1,
      CASE WHEN i % 20 = 0 THEN 'partial' ELSE 'completed' END, t, t + interval '40 seconds', 40000, t, t + interval '40 seconds'
    FROM (SELECT i, now() - (${JOBS} - i) * ${step} AS t FROM generate_series(2, ${JOBS}, 2) i) g`);
  await pool.query(`
    INSERT INTO region_results (cross_region_execution_id, region, provider_id, status, started_at, completed_at, duration_ms, error_message, created_at, updated_at)
    SELECT c.id, r.region, 'modal-' || lower(r.region),
      CASE WHEN r.region = 'EU' AND c.failure_count > 0 THEN 'failed' ELSE 'success' END,
      c.started_at, c.completed_at, 40000,
      CASE WHEN r.region = 'EU' AND c.failure_count > 0 THEN 'all executions failed' END, c.created_at, c.updated_at
    FROM cross_region_executions c CROSS JOIN (VALUES ('US'), ('EU')) r(region)`);
  // Stuck shapes: old jobs left in created / processing / running, executions left running.
  await pool.query(`UPDATE jobs SET status = 'created' WHERE id IN (1000, 2000, 3000)`);
  await pool.query(`UPDATE jobs SET status = 'processing' WHERE id IN (1500, 2500)`);
  await pool.query(`UPDATE executions SET status = 'running', completed_at = NULL WHERE id IN (10001, 20001)`);
}

interface Figure { text: string; statement: string; ms: number; rows: number; seqScans: string[]; spills: string[]; sharedRead: number }

async function measureAll(): Promise<void> {
  const beacon = BeaconSettings.parse({});
  const outbox = OutboxSettings.parse({});
  const regions = RegionsSettings.parse({});
  const receipts = ReceiptsSettings.parse({});
  const runs: Array<[string, (sql: SqlClient) => Promise<unknown>]> = [
    ["health: SELECT 1", (sql) => sql.query("SELECT 1 AS ok")],
    ["outbox: backlog + sample", (sql) => queryOutbox(sql, beacon.tables, { unpublishedSample: outbox.unpublishedSampleSize, recentSample: outbox.recentSampleSize, countCap: outbox.countCap })],
    ["outbox: stuck states + clock skew", (sql) => queryStuck(sql, beacon.tables, {
      createdSeconds: outbox.createdMaxSeconds, queuedSeconds: outbox.queuedMaxSeconds, processingSeconds: outbox.processingMaxSeconds,
      runningSeconds: outbox.runningMaxSeconds, executionRunningSeconds: outbox.executionRunningMaxSeconds, limit: outbox.stuckSampleLimit,
      finalizingSeconds: outbox.finalizingMaxSeconds, futureToleranceSeconds: outbox.clockSkewToleranceSeconds,
      outboxScanLimit: outbox.outboxScanLimit, startupRecoverySeconds: beacon.runner.startupRecoverySeconds,
    })],
    ["outbox: finished jobs (first run)", (sql) => queryFinishedJobs(sql, beacon.tables, {
      mark: undefined, initialWindowSeconds: outbox.sliInitialWindowSeconds, maxWindowSeconds: outbox.sliMaxWindowSeconds,
      settleSeconds: outbox.sliSettleSeconds, excludePrefix: CANARY_ID_PREFIX, limit: outbox.sliJobLimit,
    })],
    ["regions: grid + asked + queued", (sql) => queryRegions(sql, beacon.tables, {
      windowSeconds: regions.windowSeconds, gridWindowSeconds: regions.gridWindowSeconds, mark: null,
      initialWindowSeconds: regions.sliInitialWindowSeconds, askedSettleSeconds: regions.askedSettleSeconds,
      exampleIds: regions.exampleIds, queuedLimit: regions.queuedLimit, regionNames: beacon.regions,
      routerClientTimeoutSeconds: beacon.runner.routerClientTimeoutSeconds, gridRowLimit: regions.gridRowLimit,
    })],
    ["regions: grid (next run, with a mark)", (sql) => queryRegions(sql, beacon.tables, {
      windowSeconds: regions.windowSeconds, gridWindowSeconds: regions.gridWindowSeconds, mark: JOBS * PER_JOB - 100,
      initialWindowSeconds: regions.sliInitialWindowSeconds, askedSettleSeconds: regions.askedSettleSeconds,
      exampleIds: regions.exampleIds, queuedLimit: regions.queuedLimit, regionNames: beacon.regions,
      routerClientTimeoutSeconds: beacon.runner.routerClientTimeoutSeconds, gridRowLimit: regions.gridRowLimit,
    })],
    ["receipts: job answers", (sql) => queryJobAnswers(sql, beacon.tables, {
      statuses: receipts.answerStatuses, lookbackSeconds: receipts.lookbackHours * 3600, maxJobs: receipts.answerJobs,
      maxRows: receipts.answerMaxRows, nonAnswers: receipts.nonAnswers,
    })],
  ];
  // A pool of its own: createSqlClient sets each connection up as it opens (read-only, UTC, no JIT),
  // and the fill's connections were opened without it.
  const probePool = createSqlPool({ connectionString: db.connectionString, wsProxy: services.postgres.wsProxy, max: 1 });
  const base = createSqlClient(probePool, { statementTimeoutMs: 120_000 });
  const figures: Figure[] = [];
  for (const [statement, run] of runs) {
    let figure: Figure | undefined;
    // Twice: the first run reads from disk, the second from the cache; both are printed.
    for (const pass of [1, 2]) {
      const explaining: SqlClient = {
        async query(text, params) {
          const [row] = await base.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, params);
          figure = { ...shape(`${statement}${pass === 1 ? " (cold)" : ""}`, row!["QUERY PLAN"]), text: `${text}\n-- params ${JSON.stringify(params)}` };
          return [];
        },
      };
      await run(explaining);
      figures.push(figure!);
    }
  }
  await closePool(probePool);
  for (const f of figures) {
    const notes = [...f.seqScans.map((s) => `SEQ SCAN ${s}`), ...f.spills.map((s) => `SORT SPILL ${s}`)];
    if (process.env.BENCH_SQL === "1") console.log(f.text);
    console.log(`${f.statement.padEnd(46)} ${f.ms.toFixed(1).padStart(9)} ms  rows ${String(f.rows).padStart(6)}  read ${String(f.sharedRead).padStart(7)} blocks  ${notes.join("; ") || "index/bounded"}`);
  }
}

interface PlanNode {
  "Node Type": string; "Relation Name"?: string; "Actual Rows"?: number; "Actual Loops"?: number;
  "Sort Method"?: string; "Sort Space Type"?: string; "Sort Space Used"?: number; "Shared Read Blocks"?: number; Plans?: PlanNode[];
}

/** Time, rows and the plan's shape: sequential scans of Beacon's tables and sorts that went to disk. */
function shape(statement: string, plan: unknown): Omit<Figure, "text"> {
  const top = (plan as Array<{ Plan: PlanNode; "Execution Time": number }>)[0]!;
  const seqScans: string[] = [];
  const spills: string[] = [];
  const walk = (n: PlanNode) => {
    if (n["Node Type"] === "Seq Scan" && n["Relation Name"]) seqScans.push(`${n["Relation Name"]} (${(n["Actual Rows"] ?? 0) * (n["Actual Loops"] ?? 1)} rows)`);
    if (n["Sort Space Type"] === "Disk" || /external/i.test(n["Sort Method"] ?? "")) spills.push(`${n["Sort Method"]} ${n["Sort Space Used"]} kB`);
    n.Plans?.forEach(walk);
  };
  walk(top.Plan);
  return { statement, ms: top["Execution Time"], rows: top.Plan["Actual Rows"] ?? 0, seqScans, spills, sharedRead: top.Plan["Shared Read Blocks"] ?? 0 };
}
