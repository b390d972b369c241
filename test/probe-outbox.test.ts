import type { Pool, PoolClient } from "@neondatabase/serverless";
import { checkOf } from "./support/results.ts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Settings } from "../shared/config/index.ts";
import { closePool, createSqlPool } from "../shared/db.ts";
import { silentLogger } from "../shared/log.ts";
import { outboxProbe, type OutboxSettings } from "../shared/probes/outbox/index.ts";
import type { ProbeResult } from "../shared/result.ts";
import { runProbe } from "../shared/runner.ts";
import { createSqlClient, type SqlClient } from "../shared/sql.ts";
import { migrate } from "./sandbox/schema.sql.ts";
import { call, createHarness, jobSpec, submit, waitForStatus, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { testServices } from "./support/env.ts";
import { isolatedDatabase, type IsolatedDatabase } from "./support/isolation.ts";

const services = testServices();
const { wsProxy } = services.postgres;
const DB_LABEL = "postgres://test-db";
const ALL_CHECKS = [
  "outbox-backlog", "outbox-lag", "outbox-envelope",
  "jobs-stuck-created", "jobs-stuck-queued", "jobs-stuck-processing", "jobs-stuck-finalizing", "jobs-stuck-running", "executions-stuck-running",
  "clock-skew", "jobs-finished",
];

/** Stuck-state thresholds a minute long: fixtures are backdated ten minutes, never waited for. */
const LOW: Partial<OutboxSettings> = {
  createdMaxSeconds: 60, queuedMaxSeconds: 60, processingMaxSeconds: 60, finalizingMaxSeconds: 60, runningMaxSeconds: 60, executionRunningMaxSeconds: 60,
  oldestUnpublishedWarnSeconds: 30, oldestUnpublishedFailSeconds: 60,
};

function run(sql: SqlClient | undefined, settings: Partial<OutboxSettings> = {}, tables: Record<string, string> = {}): Promise<ProbeResult> {
  return runProbe(outboxProbe, {
    deps: { now: () => new Date(), fetch, log: silentLogger, ...(sql ? { sql } : {}) },
    settings: Settings.parse({ beacon: { tables }, probes: { outbox: { ...LOW, ...settings } } }),
    targets: { healthUrls: [], databaseLabel: DB_LABEL },
    redact: (text) => text,
  });
}


function expectAllPass(result: ProbeResult) {
  expect(result.checks.filter((c) => c.status !== "pass").map((c) => `${c.name}: ${c.message} ${c.evidence.join(" | ")}`)).toEqual([]);
  expect(result.checks.map((c) => c.name)).toEqual(ALL_CHECKS);
}

it("runs every two minutes in the tick", () => {
  expect(outboxProbe.schedule).toBe("*/2 * * * *");
});

describe("outbox probe on rows injected with SQL", () => {
  let db: IsolatedDatabase;
  /** Writes fixtures; the probe reads through its own read-only client. */
  let pool: Pool;
  let probePool: Pool;
  let sql: SqlClient;
  beforeAll(async () => {
    db = await isolatedDatabase(services);
    pool = createSqlPool({ connectionString: db.connectionString, wsProxy, max: 4 });
    await migrate(pool);
    probePool = createSqlPool({ connectionString: db.connectionString, wsProxy, max: 2 });
    sql = createSqlClient(probePool, { statementTimeoutMs: 5_000 });
  });
  afterEach(() => pool.query("TRUNCATE outbox, executions, jobs RESTART IDENTITY CASCADE"));
  afterAll(async () => {
    await closePool(probePool);
    await closePool(pool);
    await db.drop();
  });

  const ago = (seconds: number) => `(now() AT TIME ZONE 'UTC') - make_interval(secs => ${seconds})`;
  const envelope = (id: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ id, enqueued_at: "2025-09-13T10:00:00.123456789Z", attempt: 0, request_id: "", ...extra });
  const job = async (id: string, status: string, createdAgo = 0, updatedAgo = createdAgo) => {
    const { rows } = await pool.query<{ id: number }>(
      `INSERT INTO jobs (jobspec_id, jobspec_data, status, created_at, updated_at) VALUES ($1, '{}', $2, ${ago(createdAgo)}, ${ago(updatedAgo)}) RETURNING id`,
      [id, status]);
    return rows[0]!.id;
  };
  const outbox = async (payload: string, ageSeconds = 0, published = false) => {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO outbox (topic, payload, created_at, published_at) VALUES ('jobs', $1::jsonb, ${ago(ageSeconds)}, ${published ? ago(0) : "NULL"}) RETURNING id`,
      [payload]);
    return rows[0]!.id;
  };

  it("passes on an empty database and on a healthy one", async () => {
    expectAllPass(await run(sql));
    await job("done-1", "completed", 900);
    await outbox(envelope("done-1"), 900, true);
    const result = await run(sql);
    expectAllPass(result);
    expect(checkOf(result, "outbox-envelope").message).toBe("1 sampled outbox payloads are valid envelopes");
  });

  // Each row: what to inject, the check that must fail, and the evidence naming the offender.
  const cases: { rule: string; check: string; settings?: Partial<OutboxSettings>; inject(): Promise<RegExp> }[] = [
    { rule: "unpublished-count-over-threshold", check: "outbox-backlog", settings: { unpublishedWarnCount: 1, unpublishedFailCount: 2 }, async inject() {
      await job("b-1", "completed");
      const ids = [await outbox(envelope("b-1")), await outbox(envelope("b-1")), await outbox(envelope("b-1"))];
      return new RegExp(`^outbox row ${ids[0]}: unpublished for \\d+ s$`);
    } },
    { rule: "oldest-unpublished-row-too-old", check: "outbox-lag", async inject() {
      await job("lag-1", "completed");
      const id = await outbox(envelope("lag-1"), 400);
      return new RegExp(`^outbox row ${id}: unpublished for 4\\d\\d s$`);
    } },
    { rule: "poison-row-missing-attempt", check: "outbox-envelope", async inject() {
      await job("p-1", "completed");
      const id = await outbox(JSON.stringify({ id: "p-1", enqueued_at: "2025-09-13T10:00:00Z" }));
      return new RegExp(`^outbox row ${id}: missing key attempt \\(unpublished, the publisher retries it forever\\)$`);
    } },
    { rule: "payload-is-a-json-string", check: "outbox-envelope", async inject() {
      return new RegExp(`^outbox row ${await outbox(JSON.stringify("{\"id\": \"not really an object\"}"))}: payload is a JSON string, not an object`);
    } },
    { rule: "payload-is-a-json-number", check: "outbox-envelope", async inject() {
      return new RegExp(`^outbox row ${await outbox("42")}: payload is a JSON number`);
    } },
    { rule: "payload-is-a-json-array", check: "outbox-envelope", async inject() {
      return new RegExp(`^outbox row ${await outbox(JSON.stringify([envelope("x")]))}: payload is a JSON array`);
    } },
    { rule: "huge-payload-missing-a-key", check: "outbox-envelope", async inject() {
      await job("huge-1", "completed");
      const id = await outbox(JSON.stringify({ id: "huge-1", attempt: 0, blob: "x".repeat(2_000_000) }));
      return new RegExp(`^outbox row ${id}: missing key enqueued_at`);
    } },
    { rule: "published-envelope-names-no-job", check: "outbox-envelope", async inject() {
      return new RegExp(`^outbox row ${await outbox(envelope("ghost-job"), 10, true)}: id "ghost-job" names no job \\(published\\)$`);
    } },
    { rule: "envelope-with-empty-id", check: "outbox-envelope", async inject() {
      return new RegExp(`^outbox row ${await outbox(envelope(""))}: id: must not be empty`);
    } },
    { rule: "job-message-shaped-payload", check: "outbox-envelope", async inject() {
      await job("jm-1", "completed");
      const id = await outbox(JSON.stringify({ id: "jm-1:1", jobspec_id: "jm-1", action: "execute", payload: {}, attempts: 0, max_retries: 3, enqueued_at: "2025-09-13T10:00:00Z" }));
      return new RegExp(`^outbox row ${id}: missing key attempt`);
    } },
    { rule: "created-with-no-outbox-row", check: "jobs-stuck-created", async inject() {
      await job("c-none", "created", 600);
      await job("c-other", "completed", 600);
      await outbox(envelope("c-other"), 0, true); // another job's row, written since: not c-none's
      return /^job c-none: 6\d\d s in created, no outbox row/;
    } },
    { rule: "created-with-unpublished-outbox-row", check: "jobs-stuck-created", async inject() {
      await job("c-unpub", "created", 600);
      const id = await outbox(envelope("c-unpub"), 0);
      return new RegExp(`^job c-unpub: 6\\d\\d s in created, outbox row ${id} unpublished \\(publisher down or stuck on a poison row\\)$`);
    } },
    { rule: "created-with-published-row-never-picked-up", check: "jobs-stuck-created", async inject() {
      await job("c-pub", "created", 600);
      const id = await outbox(envelope("c-pub"), 0, true);
      return new RegExp(`^job c-pub: 6\\d\\d s in created, outbox row ${id} published \\d+ s ago, never picked up`);
    } },
    { rule: "created-row-beyond-the-outbox-scan-cap", check: "jobs-stuck-created", settings: { outboxScanLimit: 1 }, async inject() {
      await job("c-capped", "created", 600);
      await outbox(envelope("c-capped"), 590, true);
      await outbox(envelope("someone-else"), 0, true); // the one newest row the scan reads
      return /^job c-capped: 6\d\d s in created, no outbox row among the newest scanned rows/;
    } },
    { rule: "queued-past-threshold", check: "jobs-stuck-queued", async inject() {
      await job("q-1", "queued", 600);
      return /^job q-1: 6\d\d s in queued/;
    } },
    { rule: "processing-past-threshold", check: "jobs-stuck-processing", async inject() {
      await job("pr-1", "processing", 3600, 700);
      return /^job pr-1: 7\d\d s in processing$/;
    } },
    { rule: "finalizing-past-threshold", check: "jobs-stuck-finalizing", async inject() {
      await job("fin-1", "finalizing", 3600, 700);
      return /^job fin-1: 7\d\d s in finalizing \(strict completion barrier: persisted executions below expected; nothing moves it on\)$/;
    } },
    { rule: "job-updated-in-the-future", check: "clock-skew", async inject() {
      await job("skew-1", "completed", 10, -3600);
      return /^job skew-1: jobs\.updated_at \d{4}-\d\d-\d\dT[\d:]+ is 3[56]\d\d s ahead of the database clock$/;
    } },
    { rule: "outbox-row-created-in-the-future", check: "clock-skew", async inject() {
      await job("skew-2", "completed");
      const id = await outbox(envelope("skew-2"), -600);
      return new RegExp(`^outbox row ${id}: outbox\\.created_at \\S+ is [56]\\d\\d s ahead of the database clock$`);
    } },
    { rule: "execution-started-in-the-future", check: "clock-skew", async inject() {
      const jobId = await job("skew-3", "completed");
      const { rows } = await pool.query<{ id: number }>(
        `INSERT INTO executions (job_id, provider_id, region, status, started_at) VALUES ($1, 'p', 'us-east', 'completed', ${ago(-7200)}) RETURNING id`, [jobId]);
      return new RegExp(`^execution ${rows[0]!.id}: executions\\.started_at \\S+ is 7[12]\\d\\d s ahead of the database clock$`);
    } },
    { rule: "running-past-threshold", check: "jobs-stuck-running", async inject() {
      await job("r-1", "running", 3600, 2000);
      return /^job r-1: 20\d\d s in running \(the portal path leaves a partial result/;
    } },
    { rule: "execution-running-past-threshold", check: "executions-stuck-running", async inject() {
      const jobId = await job("e-1", "completed", 3600);
      const { rows } = await pool.query<{ id: number }>(
        `INSERT INTO executions (job_id, provider_id, region, status, started_at, created_at) VALUES ($1, 'p', 'us-east', 'running', ${ago(1000)}, ${ago(1000)}) RETURNING id`, [jobId]);
      return new RegExp(`^execution ${rows[0]!.id} \\(job_id ${jobId}\\): 1\\d\\d\\d s running$`);
    } },
  ];

  it.each(cases)("$rule: fails $check with the offender's id, passes once cleaned up", async ({ check, settings, inject }) => {
    const expected = await inject();
    const failed = await run(sql, settings);
    const c = checkOf(failed, check);
    expect(c.status, c.message).toBe("fail");
    expect(c.evidence.some((line) => expected.test(line)), `${c.evidence.join("\n")}\n!~ ${expected}`).toBe(true);
    expect(c.evidence.every((line) => line.length < 400)).toBe(true);
    expect(failed.status).toBe("fail");
    await pool.query("TRUNCATE outbox, executions, jobs RESTART IDENTITY CASCADE");
    expectAllPass(await run(sql, settings));
  });

  it("clock-skew: fails when the database clock is an hour from the sentinel's, passes when they agree", async () => {
    const skewed = await runProbe(outboxProbe, {
      deps: { now: () => new Date(Date.now() - 3_600_000), fetch, log: silentLogger, sql },
      settings: Settings.parse({ probes: { outbox: LOW } }),
      targets: { healthUrls: [], databaseLabel: DB_LABEL },
      redact: (text) => text,
    });
    expect(checkOf(skewed, "clock-skew")).toMatchObject({ status: "fail", evidence: [expect.stringMatching(/^database clock: 3[56]\d\d s ahead of the sentinel's$/)] });
    expect(checkOf(await run(sql), "clock-skew").status).toBe("pass");
  });

  describe("job SLIs of every finished job (outbox:jobs, outbox:start-latency)", () => {
    const runWith = (previousState?: unknown) => outboxProbe.run({
      deps: { now: () => new Date(), fetch, log: silentLogger, sql },
      settings: Settings.parse({ probes: { outbox: { ...LOW, sliSettleSeconds: 0 } } }).probes.outbox as OutboxSettings,
      beacon: Settings.parse({}).beacon,
      targets: { healthUrls: [], databaseLabel: DB_LABEL },
      signal: new AbortController().signal,
      previousState,
    });
    /** A finished job created `createdAgo` s ago, updated `updatedAgo` s ago, its first execution `startAfter` s after creation. */
    const finished = async (id: string, status: string, createdAgo: number, updatedAgo: number, startAfter: number | null) => {
      const jobId = await job(id, status, createdAgo, updatedAgo);
      if (startAfter !== null) {
        await pool.query(`INSERT INTO executions (job_id, provider_id, region, status, started_at) VALUES ($1, 'p', 'us-east', 'completed', ${ago(createdAgo - startAfter)})`, [jobId]);
      }
    };

    it("counts each finished job once, canaries excluded, naming the failed and the slow ones; clears once they are counted", async () => {
      await finished("sli-ok", "completed", 200, 60, 30);
      await finished("sli-slow", "completed", 400, 50, 300);
      await finished("sli-failed", "failed", 100, 40, null);
      await finished("sentinel-canary-abc", "completed", 100, 40, 500); // the canary reports itself
      await finished("sli-old", "completed", 5000, 1000, 10); // before the first window
      await finished("sli-running", "processing", 100, 40, 10); // not finished
      const first = await runWith();
      expect(first.events).toEqual({ jobs: { good: 2, total: 3 }, "start-latency": { good: 1, total: 3 } });
      const c = first.checks.find((x) => x.name === "jobs-finished")!;
      expect(c).toMatchObject({ status: "warn", observed: 3 });
      expect(c.evidence).toEqual(["job sli-failed: failed", "job sli-failed: no execution ever started", "job sli-slow: first execution started 300 s after submission"]);
      expect(c.message).toMatch(/^3 jobs finished in the first window: 2 completed, 1 failed; 1 started within 120 s; slowest start 300 s \(job sli-slow\)$/);

      const second = await runWith(first.state);
      expect(second.events).toEqual({ jobs: { good: 0, total: 0 }, "start-latency": { good: 0, total: 0 } });
      expect(second.checks.find((x) => x.name === "jobs-finished")?.status).toBe("pass");

      await finished("sli-next", "completed", 100, 0, 20); // updated_at is NOW() when Beacon writes it
      const third = await runWith(second.state);
      expect(third.events).toEqual({ jobs: { good: 1, total: 1 }, "start-latency": { good: 1, total: 1 } });
    });

    it("under beacon.database.everyMinutes its windows cover the gap between runs: a first run looks back one gap, a mark an hour old still counts", async () => {
      const runEvery = (every: number | undefined, previousState?: unknown) => outboxProbe.run({
        deps: { now: () => new Date(), fetch, log: silentLogger, sql },
        settings: Settings.parse({ probes: { outbox: LOW } }).probes.outbox as OutboxSettings,
        beacon: Settings.parse({ beacon: { database: { everyMinutes: every } } }).beacon,
        targets: { healthUrls: [], databaseLabel: DB_LABEL }, signal: new AbortController().signal, previousState,
      });
      await pool.query("TRUNCATE outbox, executions, jobs RESTART IDENTITY CASCADE");
      await finished("gap-first", "completed", 700, 600, 10); // 10 minutes ago: before a 2-minute first window, inside a 30-minute one
      expect((await runEvery(undefined)).events?.["jobs"]).toEqual({ good: 0, total: 0 });
      expect((await runEvery(30)).events?.["jobs"]).toEqual({ good: 1, total: 1 });
      // The previous run was an hour ago (every 60 minutes): its mark, 5 s before its database clock; a job finished just after it.
      const { rows } = await pool.query(`SELECT to_char((now() AT TIME ZONE 'UTC') - interval '3610 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at`);
      const hourOld = { jobsMark: { at: rows[0].at as string, id: 2_147_483_647 } };
      await finished("gap-after-mark", "completed", 3700, 3605, 10);
      // Without the setting the mark reaches back one hour only: the job just after it is lost, the one 10 minutes ago counted.
      expect((await runEvery(undefined, hourOld)).events?.["jobs"]).toEqual({ good: 1, total: 1 });
      expect((await runEvery(60, hourOld)).events?.["jobs"]).toEqual({ good: 2, total: 2 });
    });

    it("resumes inside a run of equal timestamps when a page is full, counting every job exactly once", async () => {
      for (const id of ["tie-a", "tie-b", "tie-c"]) await finished(id, "completed", 100, 30, 5);
      await pool.query("UPDATE jobs SET updated_at = (SELECT min(updated_at) FROM jobs)");
      const limited = (state?: unknown) => outboxProbe.run({
        deps: { now: () => new Date(), fetch, log: silentLogger, sql },
        settings: Settings.parse({ probes: { outbox: { ...LOW, sliJobLimit: 2 } } }).probes.outbox as OutboxSettings,
        beacon: Settings.parse({}).beacon, targets: { healthUrls: [] }, signal: new AbortController().signal, previousState: state,
      });
      const a = await limited();
      const b = await limited(a.state);
      const c = await limited(b.state);
      expect([a, b, c].map((r) => r.events?.["jobs"]?.total)).toEqual([2, 1, 0]);
    });
  });

  it("counts the backlog only up to countCap and says so", async () => {
    await job("cap-1", "completed");
    for (let i = 0; i < 4; i++) await outbox(envelope("cap-1"));
    const c = checkOf(await run(sql, { countCap: 3, unpublishedFailCount: 2 }), "outbox-backlog");
    expect(c).toMatchObject({ status: "fail", observed: 3, message: "at least 3 unpublished outbox rows" });
  });

  it("computes ages in UTC even when the session time zone is not UTC", async () => {
    await job("tz-1", "created", 600);
    // A client without the UTC session setting, on a session 14 hours ahead of UTC.
    const url = new URL(db.connectionString);
    url.searchParams.set("options", `${url.searchParams.get("options")} -c TimeZone=Pacific/Kiritimati`);
    const tzPool = createSqlPool({ connectionString: url.toString(), wsProxy, max: 1 });
    try {
      const raw: SqlClient = { query: async (text, params) => (await tzPool.query(text, params)).rows as never };
      expect((await tzPool.query("SHOW TimeZone")).rows[0]).toEqual({ TimeZone: "Pacific/Kiritimati" });
      const c = checkOf(await run(raw), "jobs-stuck-created");
      expect(c.evidence).toEqual([expect.stringMatching(/^job tz-1: 6\d\d s in created/)]);
    } finally {
      await closePool(tzPool);
    }
  });

  // PGlite runs one session at a time, so a lock held by another connection cannot be staged there.
  it.skipIf(services.postgres.engine === "pglite")("turns a locked table into error checks (statement timeout), not a crash (not on PGlite: one session at a time)", async () => {
    const locker: PoolClient = await pool.connect();
    const timeoutPool = createSqlPool({ connectionString: db.connectionString, wsProxy, max: 2 });
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE");
      const result = await run(createSqlClient(timeoutPool, { statementTimeoutMs: 300 }));
      expect(result.checks.map((c) => c.name)).toEqual(ALL_CHECKS);
      // One statement for the three queries (issue 22): the SLIs' query, which never reads the outbox, waits with it.
      for (const c of result.checks) {
        expect(c.status).toBe("error");
        expect(c.message).toMatch(/could not measure: .*statement timeout/);
        expect(c.evidence).toEqual([DB_LABEL]);
      }
      expect(result.status).toBe("error");
    } finally {
      await locker.query("ROLLBACK");
      locker.release();
      await closePool(timeoutPool);
    }
  });

  it("reports the runner's time budget when the database hangs past it", async () => {
    const locker: PoolClient = await pool.connect();
    const slowPool = createSqlPool({ connectionString: db.connectionString, wsProxy, max: 2 });
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE");
      const result = await run(createSqlClient(slowPool, { statementTimeoutMs: 5_000 }), { timeoutMs: 200 });
      expect(result).toMatchObject({ status: "error", error: "probe did not finish within 200 ms", checks: [] });
    } finally {
      await locker.query("ROLLBACK");
      locker.release();
      await closePool(slowPool);
    }
  });

  it("reports an unreachable database, a missing table and a missing client as error checks", async () => {
    const deadPool = createSqlPool({ connectionString: "postgres://nobody:secret@127.0.0.1:1/none", wsProxy, max: 1 });
    deadPool.on("error", () => undefined);
    try {
      const unreachable = await run(createSqlClient(deadPool, { statementTimeoutMs: 1_000 }));
      expect(unreachable.checks.map((c) => [c.name, c.status])).toEqual(ALL_CHECKS.map((n) => [n, "error"]));
      expect(unreachable.checks[0]!.message).toMatch(/^postgres:\/\/test-db: could not measure: /);
    } finally {
      await closePool(deadPool);
    }
    const missing = await run(sql, {}, { outbox: "no_such_outbox" });
    expect(missing.checks.filter((c) => c.name !== "jobs-finished").every((c) => c.status === "error" && /no_such_outbox/.test(c.message))).toBe(true);
    const noJobs = await run(sql, {}, { jobs: "no_such_jobs" });
    expect(checkOf(noJobs, "jobs-finished")).toMatchObject({ status: "error", message: expect.stringMatching(/no_such_jobs/) });
    const unconfigured = await run(undefined);
    expect(unconfigured.checks.map((c) => [c.status, c.message])[0]).toEqual(["error", `${DB_LABEL}: not measured: BEACON_DATABASE_URL is not set`]);
  });
});

describe("outbox probe against the Beacon sandbox's incidents", () => {
  let h: Harness;
  let s: Sandbox;
  let sql: SqlClient;
  let probePool: Pool;
  beforeAll(async () => {
    h = await createHarness();
    s = await h.start({ sigBypass: true });
    probePool = createSqlPool({ connectionString: h.db.connectionString, wsProxy, max: 3 });
    sql = createSqlClient(probePool, { statementTimeoutMs: 5_000 });
  });
  afterEach(() => s.incidents.reset());
  afterAll(async () => {
    await closePool(probePool);
    await h?.close();
  });

  /** Submits a job and moves its creation ten minutes into the past (the stuck threshold is one). */
  async function submitAged(): Promise<string> {
    const spec = jobSpec();
    const response = await submit(s, spec);
    expect(response.status, response.text).toBe(202);
    await s.drain();
    const id = String(spec["jobspec_id"]);
    await s.pool.query("UPDATE jobs SET created_at = created_at - interval '600 seconds', updated_at = updated_at - interval '600 seconds' WHERE jobspec_id = $1", [id]);
    return id;
  }

  async function recover(id: string) {
    const republished = await call(`${s.url}/emergency/republish-stuck-jobs`, { method: "POST" });
    expect(republished.status, republished.text).toBe(200);
    await waitForStatus(s, id, "completed");
  }

  it("passes while the pipeline is healthy", async () => {
    const spec = jobSpec();
    await submit(s, spec);
    await waitForStatus(s, String(spec["jobspec_id"]), "completed");
    const result = await run(sql);
    expectAllPass(result);
    expect(checkOf(result, "outbox-envelope").observed).toBe(0);
  });

  it("no-outbox-row: the stuck job is classified as having no outbox row", async () => {
    s.incidents.set("no-outbox-row", true);
    const id = await submitAged();
    const c = checkOf(await run(sql), "jobs-stuck-created");
    expect(c.status).toBe("fail");
    expect(c.message).toMatch(/1 jobs in created > 60 s: 1 no outbox row/);
    expect(c.evidence).toEqual([expect.stringMatching(new RegExp(`^job ${id}: 6\\d\\d s in created, no outbox row`))]);
    s.incidents.set("no-outbox-row", false);
    await recover(id);
    expectAllPass(await run(sql));
  });

  it("payload-mismatch: the stuck job's row was published but the job never picked up", async () => {
    s.incidents.set("payload-mismatch", true);
    const id = await submitAged();
    const c = checkOf(await run(sql), "jobs-stuck-created");
    expect(c.status).toBe("fail");
    expect(c.evidence).toEqual([expect.stringMatching(new RegExp(`^job ${id}: 6\\d\\d s in created, outbox row \\d+ published \\d+ s ago, never picked up`))]);
    s.incidents.set("payload-mismatch", false);
    await recover(id);
    expectAllPass(await run(sql));
  });

  it("worker-stopped: published rows pile up behind a worker that pops nothing", async () => {
    s.incidents.set("worker-stopped", true);
    const id = await submitAged();
    const c = checkOf(await run(sql), "jobs-stuck-created");
    expect(c).toMatchObject({ status: "fail", observed: 1 });
    expect(c.evidence[0]).toMatch(new RegExp(`^job ${id}: .* published .* never picked up`));
    s.incidents.set("worker-stopped", false);
    await waitForStatus(s, id, "completed");
    expectAllPass(await run(sql));
  });
});
