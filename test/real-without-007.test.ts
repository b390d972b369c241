import type { Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUESTION_ID_MISSING } from "../shared/beacon/question-column.ts";
import { BeaconSettings } from "../shared/beacon/settings.ts";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import { closePool, createSqlPool } from "../shared/db.ts";
import { sightingsFromDb } from "../shared/load/follow.ts";
import { silentLogger } from "../shared/log.ts";
import type { Check } from "../shared/result.ts";
import { receiptsProbe } from "../shared/probes/receipts/index.ts";
import type { ReceiptsSettings } from "../shared/probes/receipts/settings.ts";
import { createSqlClient, type SqlClient } from "../shared/sql.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { call, createHarness, waitFor, type Harness } from "./sandbox/testing.ts";
import { canaryRig } from "./support/canary.ts";
import { testServices } from "./support/env.ts";

/**
 * Beacon's database without the hand-applied 007 (no executions.question_id), in the shape the real
 * runner gave (test/fixtures/beacon-real/runner-without-migration-007.json): every execution insert
 * fails and is ignored, jobs complete with no execution row, `?include=executions` answers 500. The
 * sentinel names the missing column instead of Postgres' "column does not exist"; rows written without
 * the column (a runner that does not name it) are judged per region and pass; adding the column clears it.
 */
describe("Beacon's database without executions.question_id (007 not applied)", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let probePool: Pool;
  let sql: SqlClient;
  let seq = 0;
  const keys = generateKeyPair();

  const byName = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.name, c]));
  async function receipts(overrides: Partial<ReceiptsSettings> = {}): Promise<Record<string, Check>> {
    const out = await receiptsProbe.run({
      deps: { now: () => new Date(), fetch, log: silentLogger, sql },
      settings: receiptsProbe.settings.parse({ maxJobs: 1, answerJobs: 1, ...overrides }), beacon: BeaconSettings.parse({}),
      targets: { apiUrl: sandbox.url, healthUrls: [], databaseLabel: "postgres://sandbox" }, signal: new AbortController().signal,
    });
    return byName(out.checks);
  }
  const statusOf = async (id: string) => (await sandbox.pool.query("SELECT status FROM jobs WHERE jobspec_id = $1", [id])).rows[0]?.status as string | undefined;
  const executionsOf = async (id: string) =>
    (await sandbox.pool.query("SELECT count(*)::int AS n FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1", [id])).rows[0].n as number;

  async function queueJob(): Promise<string> {
    const id = `${h.prefix}no007-${++seq}`;
    const res = await call(`${sandbox.url}/api/v1/jobs`, { method: "POST", json: {
      jobspec_id: id, version: "v1", benchmark: { name: "bias-detection", container: { image: "beacon/llama" }, input: { hash: "sha256:1" } },
      constraints: { regions: ["US", "EU"], min_regions: 1 }, questions: ["identity_basic", "math_basic"],
    } });
    expect(res.status).toBe(202);
    await waitFor(async () => (await statusOf(id)) === "completed", `job ${id} completed`);
    return id;
  }

  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start({ sigBypass: true, hybridPath: true });
    await sandbox.pool.query("ALTER TABLE executions DROP COLUMN question_id");
    probePool = createSqlPool({ connectionString: h.db.connectionString, wsProxy: testServices().postgres.wsProxy, max: 2 });
    sql = createSqlClient(probePool, { statementTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    if (probePool) await closePool(probePool);
    await h?.close();
  });

  it("nothing to judge yet: job-answers is blind (error) naming the missing column, not green and not Postgres' raw error", async () => {
    const checks = await receipts();
    expect(checks["job-answers"]).toMatchObject({ status: "error", message: expect.stringMatching(new RegExp(`^blind: ${QUESTION_ID_MISSING.replace(/[()]/g, "\\$&")}, and no answer to judge`)) });
    expect(checks["job-answers"]!.evidence![0]).toMatch(/executions_repo\.go:326\), so it stores no execution on either path/);
  });

  it("a job completes with no execution row (the runner's real shape): job-answers fails naming the column, jobs-api names it beside the 500", async () => {
    const id = await queueJob();
    expect(await executionsOf(id)).toBe(0);
    expect((await call(`${sandbox.url}/api/v1/jobs/${id}?include=executions`)).status).toBe(500);
    const checks = await receipts();
    const answers = checks["job-answers"]!;
    expect(answers.status).toBe("fail");
    expect(answers.message).toBe(`${QUESTION_ID_MISSING}: 1 problems in 1 jobs (4 expected answers judged): job ${id}: completed with no executions (4 expected)`);
    expect(answers.message).not.toMatch(/does not exist/);
    expect(answers.evidence![0]).toMatch(/^Beacon's database lacks executions\.question_id \(migration 007 not applied\): Beacon's runner names the column/);
    expect(checks["jobs-api"]).toMatchObject({ status: "fail", message: expect.stringContaining(`HTTP 500: {"error":"Failed to fetch executions"} (${QUESTION_ID_MISSING}: Beacon's executions read names the column`) });
    // load: the duplicate count runs without the column and says so.
    const seen = await sightingsFromDb(sql, BeaconSettings.parse({}).tables, [id]);
    expect(seen.get(id)).toMatchObject({ status: "completed", executions: 0, duplicateExecutions: 0 });
    expect(seen.questionIdMissing).toBe(true);
  });

  it("the canary on the portal path: its job completes without a row; the started stage names the missing column", async () => {
    const r = canaryRig(h, sandbox, keys.privateKey, {});
    try {
      r.advance(15 * 60);
      await r.invoke();
      const id = (await r.state()).inFlight!.id;
      await waitFor(async () => sandbox.crossRegionInFlight() === 0, "the portal run ended");
      expect(await statusOf(id)).toBe("completed");
      r.advance(421);
      const { by } = await r.invoke();
      expect(by["stage:started"]).toMatchObject({ status: "fail", message: expect.stringMatching(new RegExp(`^\\d+ s in completed: no execution row: ${QUESTION_ID_MISSING.replace(/[()]/g, "\\$&")}$`)) });
    } finally {
      await r.close();
    }
  });

  it("rows written without the column (a runner that does not name it) are judged per region and pass: no false alarm", async () => {
    const id = await queueJob();
    const output = JSON.stringify({ response: "Paris is the capital of France.", provider: "modal-us-east", metadata: {} });
    await sandbox.pool.query(
      `INSERT INTO executions (job_id, provider_id, region, status, started_at, completed_at, output_data, model_id)
       SELECT j.id, 'modal-' || r, r, 'completed', NOW(), NOW(), $2::jsonb, 'llama3.2-1b' FROM jobs j, unnest(ARRAY['us-east', 'eu-west']) r WHERE j.jobspec_id = $1`, [id, output]);
    const checks = await receipts();
    expect(checks["job-answers"]).toMatchObject({ status: "pass",
      message: `4 of 4 expected answers of 1 jobs present, judged per region: ${QUESTION_ID_MISSING}, yet executions were stored` });
  });

  it("007 applied: new jobs store their executions and job-answers passes as usual", async () => {
    await sandbox.pool.query("ALTER TABLE executions ADD COLUMN question_id VARCHAR(255)");
    const id = await queueJob();
    expect(await executionsOf(id)).toBe(4);
    const checks = await receipts();
    expect(checks["job-answers"]).toMatchObject({ status: "pass", message: "4 expected answers of 1 jobs present, with question text" });
    expect(checks["jobs-api"]!.status).toBe("pass");
  });
});
