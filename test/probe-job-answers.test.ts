import type { Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BeaconSettings } from "../shared/beacon/settings.ts";
import { closePool, createSqlPool } from "../shared/db.ts";
import { silentLogger } from "../shared/log.ts";
import type { Check } from "../shared/result.ts";
import { expectedUnits } from "../shared/probes/receipts/answers.ts";
import { routerRegion } from "../shared/beacon/regions.ts";
import { receiptsProbe } from "../shared/probes/receipts/index.ts";
import type { ReceiptsSettings } from "../shared/probes/receipts/settings.ts";
import { createSqlClient, type SqlClient } from "../shared/sql.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { createHarness, waitFor, type Harness } from "./sandbox/testing.ts";
import { testServices } from "./support/env.ts";

/**
 * job-answers on the hybrid-router path: one execution per region × model × question, receipt_data
 * NULL, the answer in output_data. Each production shape is injected (a sandbox incident or SQL), the
 * check fails naming the job, the shape is cleared, the check passes.
 */
describe("job-answers on the hybrid path with an older Modal (sandbox hybridPath, hybridReceipt: none)", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let probePool: Pool;
  let sql: SqlClient;
  let seq = 0;

  async function run(overrides: Partial<ReceiptsSettings> = {}, withSql = true): Promise<Record<string, Check>> {
    const out = await receiptsProbe.run({
      deps: { now: () => new Date(), fetch, log: silentLogger, ...(withSql ? { sql } : {}) },
      settings: receiptsProbe.settings.parse({ maxJobs: 1, answerJobs: 1, ...overrides }),
      beacon: BeaconSettings.parse({}),
      targets: { apiUrl: sandbox.url, healthUrls: [], databaseLabel: "postgres://sandbox" },
      signal: new AbortController().signal,
    });
    return Object.fromEntries(out.checks.map((c) => [c.name, c]));
  }

  /** A two-region, two-question job, run to the end. */
  async function runJob(): Promise<string> {
    const id = `${h.prefix}hybrid-${++seq}`;
    const res = await fetch(`${sandbox.url}/api/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jobspec_id: id, version: "v1", benchmark: { name: "bias-detection", container: { image: "beacon/llama" }, input: { hash: "sha256:1" } },
        constraints: { regions: ["US", "EU"], min_regions: 1 }, questions: ["identity_basic", "math_basic"] }),
    });
    expect(res.status).toBe(202);
    await waitFor(async () => (await sandbox.pool.query("SELECT status FROM jobs WHERE jobspec_id = $1", [id])).rows[0]?.status === "completed", `job ${id} completed`);
    return id;
  }

  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start({ sigBypass: true, hybridPath: true, hybridReceipt: "none" });
    probePool = createSqlPool({ connectionString: h.db.connectionString, wsProxy: testServices().postgres.wsProxy, max: 2 });
    sql = createSqlClient(probePool, { statementTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    if (probePool) await closePool(probePool);
    await h?.close();
  });

  it("stores what Beacon's hybrid executor stores: per-question rows, NULL receipt_data, {response, provider, metadata}", async () => {
    const id = await runJob();
    const { rows } = await sandbox.pool.query(
      "SELECT e.region, e.question_id, e.receipt_data, e.output_data FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1 ORDER BY 1, 2", [id]);
    expect(rows.map((r: any) => `${r.region}/${r.question_id}`)).toEqual(["eu-west/identity_basic", "eu-west/math_basic", "us-east/identity_basic", "us-east/math_basic"]);
    expect(rows.every((r: any) => r.receipt_data === null)).toBe(true);
    expect(Object.keys(rows[0].output_data).sort()).toEqual(["metadata", "provider", "response"]);
    const details = await (await fetch(`${sandbox.url}/api/v1/jobs/${id}?include=executions`)).json();
    // Every row is served, none with a receipt: the API shows nothing of these answers.
    expect(details.executions.map((e: any) => [e.status, "receipt" in e])).toEqual([["completed", false], ["completed", false], ["completed", false], ["completed", false]]);
  });

  it("passes on a complete job, judging every answer from output_data, and says where the receipts went", async () => {
    const id = await runJob();
    const checks = await run();
    expect(checks["job-answers"]).toMatchObject({ status: "pass", message: "4 expected answers of 1 jobs present, with question text" });
    expect(checks.receipts).toMatchObject({ status: "pass", message: expect.stringMatching(/^no receipts served for 1 jobs .*4 answers judged from Beacon's database/) });
    expect(id).toBeTruthy();
  });

  it("without the database, the receipts check is blind (error), never a pass that judged nothing", async () => {
    await runJob();
    const checks = await run({}, false);
    expect(checks.receipts).toMatchObject({ status: "error", message: expect.stringMatching(/^blind: \?include=executions served no receipt for 1 completed jobs/) });
    expect(checks["job-answers"]?.status).toBe("error");
  });

  it("lost-answer: fails naming the job and the missing region / model / question, then passes once cleared", async () => {
    sandbox.incidents.set("lost-answer", true);
    const bad = await runJob();
    const on = await run();
    expect(on["job-answers"]).toMatchObject({ status: "fail", observed: 1 });
    expect(on["job-answers"]?.evidence).toEqual([expect.stringMatching(new RegExp(`^job ${bad}: no execution for (us-east|eu-west) / llama3.2-1b / (identity_basic|math_basic) \\(the portal shows no answer for it\\)$`))]);
    sandbox.incidents.set("lost-answer", false);
    await runJob();
    expect((await run())["job-answers"]?.status).toBe("pass");
  });

  it("duplicate-executions: fails naming the job and the duplicated execution ids, then passes once cleared", async () => {
    sandbox.incidents.set("duplicate-executions", true);
    const bad = await runJob();
    const on = await run();
    expect(on["job-answers"]).toMatchObject({ status: "fail", observed: 4 });
    expect(on["job-answers"]?.evidence[0]).toMatch(new RegExp(`^job ${bad}: 2 executions for (us-east|eu-west) / llama3.2-1b / \\w+ \\(duplicates: executions \\d+, \\d+\\)$`));
    sandbox.incidents.set("duplicate-executions", false);
    await runJob();
    expect((await run())["job-answers"]?.status).toBe("pass");
  });

  it("an empty output_data.response: fails naming job and execution, then passes once the answer is back", async () => {
    const id = await runJob();
    const { rows } = await sandbox.pool.query<{ id: number; response: string }>(
      `UPDATE executions e SET output_data = jsonb_set(e.output_data, '{response}', '"  "') FROM jobs j
       WHERE e.job_id = j.id AND j.jobspec_id = $1 AND e.question_id = 'math_basic' AND e.region = 'us-east'
       RETURNING e.id, (SELECT o.output_data->>'response' FROM executions o WHERE o.id = e.id) AS response`, [id]);
    const on = await run();
    expect(on["job-answers"]?.evidence).toEqual([`job ${id} execution ${rows[0]!.id} (us-east / llama3.2-1b / math_basic): output_data.response is empty`]);
    await sandbox.pool.query(`UPDATE executions SET output_data = jsonb_set(output_data, '{response}', to_jsonb($2::text)) WHERE id = $1`, [rows[0]!.id, rows[0]!.response]);
    expect((await run())["job-answers"]?.status).toBe("pass");
  });

  it("a completed job with no executions: fails naming it, then passes once it is gone", async () => {
    const id = `${h.prefix}empty-completed`;
    const spec = { id, jobspec_id: id, constraints: { regions: ["US", "EU", "APAC"] }, questions: ["identity_basic"] };
    await sandbox.pool.query("INSERT INTO jobs (jobspec_id, jobspec_data, status) VALUES ($1, $2, 'completed')", [id, JSON.stringify(spec)]);
    const on = await run();
    expect(on["job-answers"]).toMatchObject({ status: "fail", evidence: [`job ${id}: completed with no executions (3 expected)`] });
    await sandbox.pool.query("DELETE FROM jobs WHERE jobspec_id = $1", [id]);
    expect((await run())["job-answers"]?.status).toBe("pass");
  });

  it("a job whose JobSpec names no region: error (blind), not pass, then passes once a judgeable job is newest", async () => {
    const id = `${h.prefix}no-regions`;
    await sandbox.pool.query("INSERT INTO jobs (jobspec_id, jobspec_data, status) VALUES ($1, $2, 'failed')", [id, JSON.stringify({ jobspec_id: id })]);
    const on = await run();
    expect(on["job-answers"]).toMatchObject({ status: "error", message: "blind: judged no answer over 1 jobs, 1 without regions in their JobSpec (" + id + ")" });
    await runJob();
    expect((await run())["job-answers"]?.status).toBe("pass");
  });
});

const NAMES = BeaconSettings.parse({}).regions;

describe("expected executions from a JobSpec", () => {
  it.each([
    ["constraint regions, default model", { regions: ["US", "EU"], models: null, spec_model: null }, ["us-east/llama3.2-1b", "eu-west/llama3.2-1b"]],
    ["metadata.model_id names the single model", { regions: ["APAC"], models: null, spec_model: "qwen2.5-1.5b" }, ["asia-pacific/qwen2.5-1.5b"]],
    ["models run only in the job's regions they list", { regions: ["US", "EU"], models: [{ id: "a", regions: ["US", "CA"] }, { id: "b", regions: ["EU"] }], spec_model: null }, ["us-east/a", "eu-west/b"]],
    ["no constraint regions: the models' own", { regions: [], models: [{ id: "a", regions: ["ASIA"] }], spec_model: null }, ["asia-pacific/a"]],
    ["no regions at all", { regions: null, models: null, spec_model: null }, []],
  ])("%s", (_name, row, expected) => {
    expect(expectedUnits(row, NAMES).map((u) => `${u.region}/${u.model}`)).toEqual(expected);
  });

  it.each([["US", "us-east"], ["eu", "eu-west"], ["ASIA", "asia-pacific"], ["asia-pacific", "asia-pacific"], ["SA", "eu-west"]])("region %s is stored as %s", (given, stored) => {
    expect(routerRegion(given, NAMES)).toBe(stored);
  });
});
