import type { Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BeaconSettings } from "../shared/beacon/settings.ts";
import { closePool, createSqlPool } from "../shared/db.ts";
import { silentLogger } from "../shared/log.ts";
import type { Check } from "../shared/result.ts";
import { receiptsProbe } from "../shared/probes/receipts/index.ts";
import { regionsProbe } from "../shared/probes/regions/index.ts";
import { createSqlClient, type SqlClient } from "../shared/sql.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { call, createHarness, waitFor, type Harness } from "./sandbox/testing.ts";
import { testServices } from "./support/env.ts";

/**
 * The sandbox driven along each path users take, in the shapes Beacon's real runner produces (contract
 * sheet §11): the hybrid path with Modal's receipts, multi-model jobs, and the portal's cross-region
 * path with raw region codes and unsigned receipts. Healthy jobs are green on every check; each fault of
 * what lies outside Beacon (router, provider, Modal) is named with the runner's own cause.
 */
const CLIENT_TIMEOUT_MS = 300;
const BEACON = BeaconSettings.parse({ runner: { routerClientTimeoutSeconds: CLIENT_TIMEOUT_MS / 1000 } });

describe("real shapes along each path (hybrid runner, Modal receipts)", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let probePool: Pool;
  let sql: SqlClient;
  let regionsState: unknown;
  let seq = 0;

  const byName = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.name, c]));
  async function receipts(): Promise<Record<string, Check>> {
    const out = await receiptsProbe.run({
      deps: { now: () => new Date(), fetch, log: silentLogger, sql },
      settings: receiptsProbe.settings.parse({ maxJobs: 1, answerJobs: 1 }), beacon: BEACON,
      targets: { apiUrl: sandbox.url, healthUrls: [], databaseLabel: "postgres://sandbox" }, signal: new AbortController().signal,
    });
    return byName(out.checks);
  }
  async function regions(): Promise<Record<string, Check>> {
    const out = await regionsProbe.run({
      deps: { now: () => new Date(), fetch, log: silentLogger, sql },
      settings: regionsProbe.settings.parse({ windowSeconds: 2, askedSettleSeconds: 0, minExecutions: 2 }), beacon: BEACON,
      targets: { apiUrl: sandbox.url, healthUrls: [], databaseLabel: "postgres://sandbox" }, signal: new AbortController().signal, previousState: regionsState,
    });
    regionsState = out.state;
    return byName(out.checks);
  }
  const ageOut = () => new Promise((resolve) => setTimeout(resolve, 2_300));
  const statusOf = async (id: string) => (await sandbox.pool.query("SELECT status FROM jobs WHERE jobspec_id = $1", [id])).rows[0]?.status as string | undefined;
  const spec = (id: string, extra: Record<string, unknown> = {}) => ({
    jobspec_id: id, version: "v1", benchmark: { name: "multi-model-bias-detection", container: { image: "ghcr.io/project-beacon/bias-detection:latest" }, input: { hash: "sha256:placeholder" } },
    constraints: { regions: ["US", "EU"], min_regions: 1, min_success_rate: 0.5 }, questions: ["identity_basic", "math_basic"], ...extra,
  });

  /** The queue path (`POST /api/v1/jobs`), run to the end. */
  async function queueJob(extra: Record<string, unknown> = {}): Promise<string> {
    const id = `${h.prefix}queue-${++seq}`;
    expect((await call(`${sandbox.url}/api/v1/jobs`, { method: "POST", json: spec(id, extra) })).status).toBe(202);
    await waitFor(async () => ["completed", "failed"].includes((await statusOf(id)) ?? ""), `job ${id} finished`);
    return id;
  }

  /** The portal's path (`POST /api/v1/jobs/cross-region`), as useBiasDetection.js submits it, run to the end. */
  async function portalJob(extra: Record<string, unknown> = {}, request: Record<string, unknown> = {}): Promise<string> {
    const id = `${h.prefix}portal-${++seq}`;
    // created_at as the portal sends it: this path stores it as jobs.created_at (store/jobs_repo.go:45-48).
    const jobspec = { ...spec(id, extra), created_at: new Date().toISOString(), metadata: { created_by: "portal", models: ["llama3.2-1b", "qwen2.5-1.5b"], model: "llama3.2-1b", multi_model: true } };
    const res = await call(`${sandbox.url}/api/v1/jobs/cross-region`, { method: "POST", json: { jobspec, target_regions: ["US", "EU"], min_regions: 1, min_success_rate: 0.67, enable_analysis: true, ...request } });
    expect(res.status).toBe(202);
    expect(await statusOf(id)).toBe("queued"); // queued while it runs, no outbox row
    await waitFor(async () => sandbox.crossRegionInFlight() === 0, `portal job ${id} run`);
    return id;
  }

  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start({ sigBypass: true, hybridPath: true, routerClientTimeoutMs: CLIENT_TIMEOUT_MS });
    probePool = createSqlPool({ connectionString: h.db.connectionString, wsProxy: testServices().postgres.wsProxy, max: 2 });
    sql = createSqlClient(probePool, { statementTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    if (probePool) await closePool(probePool);
    await h?.close();
  });
  beforeEach(() => sandbox.incidents.reset());

  it("hybrid path, multi-model job (metadata.models): Modal receipts stored and served as maps, every check green", async () => {
    const id = await queueJob({ metadata: { models: ["llama3.2-1b", "qwen2.5-1.5b"] } });
    expect(await statusOf(id)).toBe("completed");
    const { rows } = await sandbox.pool.query(
      "SELECT e.region, e.model_id, e.receipt_data FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1 ORDER BY 1, 2", [id]);
    expect(rows).toHaveLength(8); // 2 regions × 2 models × 2 questions
    expect(new Set(rows.map((r: any) => `${r.region}/${r.model_id}`))).toEqual(new Set(["eu-west/llama3.2-1b", "eu-west/qwen2.5-1.5b", "us-east/llama3.2-1b", "us-east/qwen2.5-1.5b"]));
    expect(Object.keys(rows[0].receipt_data).sort()).toEqual(["execution_details", "output", "provenance", "schema_version"]);
    const checks = await receipts();
    expect(checks.receipts).toMatchObject({ status: "pass", message: expect.stringMatching(/^8 receipts of 1 jobs valid \(modal 8\)/) });
    expect(checks["job-answers"]).toMatchObject({ status: "pass", message: "8 expected answers of 1 jobs present, with question text" });
    expect((await call(`${sandbox.url}/api/v1/jobs/${id}?include=latest`)).body.executions).toEqual([]); // a Modal receipt does not decode
  });

  it("portal path: raw US/EU regions, unsigned portal receipts, metadata.models per region; green, and the regions probe does not flag it", async () => {
    await ageOut();
    const id = await portalJob();
    expect(await statusOf(id)).toBe("completed");
    const { rows } = await sandbox.pool.query(
      `SELECT e.region, e.model_id, e.question_id, e.receipt_data->>'signature' AS signature, e.output_data ? 'response' AS answered, e.created_at = e.started_at AS same
       FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1 ORDER BY 1, 2, 3`, [id]);
    expect(rows.map((r: any) => `${r.region}/${r.model_id}/${r.question_id}`)).toEqual([
      "EU/llama3.2-1b/identity_basic", "EU/llama3.2-1b/math_basic", "EU/qwen2.5-1.5b/identity_basic", "EU/qwen2.5-1.5b/math_basic",
      "US/llama3.2-1b/identity_basic", "US/llama3.2-1b/math_basic", "US/qwen2.5-1.5b/identity_basic", "US/qwen2.5-1.5b/math_basic",
    ]);
    expect(rows.every((r: any) => r.signature === "" && r.answered && r.same)).toBe(true);
    const stored = (await sandbox.pool.query("SELECT jobspec_data FROM jobs WHERE jobspec_id = $1", [id])).rows[0].jobspec_data;
    expect(stored.models ?? null).toBeNull(); // the portal path stores metadata.models as sent: no models[]
    const checks = await receipts();
    expect(checks.receipts).toMatchObject({ status: "pass", message: expect.stringMatching(/^8 receipts of 1 jobs valid \(portal 8\)/) });
    expect(checks["job-answers"]).toMatchObject({ status: "pass", message: "8 expected answers of 1 jobs present, with question text" });
    const r = await regions();
    for (const region of ["us-east", "eu-west"]) expect(r[`region:${region}`], region).toMatchObject({ status: "pass", observed: 1 });
    expect(Object.keys(r).filter((n) => /^region:(US|EU)$/i.test(n))).toEqual([]);
  });

  it("router-hang eu-west: ROUTER_NETWORK after the runner's client timeout, named as a router/provider timeout with its delay", async () => {
    await ageOut();
    sandbox.incidents.set("router-hang:eu-west", true);
    const id = await queueJob();
    expect(await statusOf(id)).toBe("completed"); // 2 of 4 answered, min_success_rate 0.5
    const answers = (await receipts())["job-answers"]!;
    expect(answers).toMatchObject({ status: "warn", observed: 2, message: expect.stringContaining("2 failed executions (ROUTER_NETWORK ×2)") });
    expect(answers.evidence[0]).toMatch(new RegExp(`^job ${id} execution \\d+ \\(eu-west / llama3.2-1b / \\w+\\): ROUTER_NETWORK after 1 s: the router or provider did not answer within the runner's 0.3 s HTTP client timeout`));
    const eu = (await regions())["region:eu-west"]!;
    expect(eu).toMatchObject({ status: "fail", message: expect.stringContaining("dominant cause ROUTER_NETWORK after up to 1 s: the router or provider did not answer within the runner's HTTP client timeout (router_network/hybrid_router, transient) ×2") });
    sandbox.incidents.set("router-hang:eu-west", false);
    await ageOut();
    await queueJob();
    expect((await receipts())["job-answers"]?.status).toBe("pass");
    expect((await regions())["region:eu-west"]?.status).toBe("pass");
  });

  it("modal-no-answer us-east: a completed row whose answer is Modal's 'Response extraction failed' fails receipts and job-answers, naming it", async () => {
    sandbox.incidents.set("modal-no-answer:us-east", true);
    const id = await queueJob();
    const checks = await receipts();
    expect(checks.receipts).toMatchObject({ status: "fail", observed: 2 });
    expect(checks.receipts?.evidence[0]).toMatch(new RegExp(`^job ${id} execution \\d+ \\(us-east / llama3.2-1b / \\w+\\): output.response is a non-answer \\("Response extraction failed"`));
    expect(checks["job-answers"]).toMatchObject({ status: "fail", observed: 2 });
    sandbox.incidents.set("modal-no-answer:us-east", false);
    await queueJob();
    expect(Object.values(await receipts()).map((c) => c.status)).toEqual(["pass", "pass", "pass", "pass", "pass"]);
  });

  it("a retrying execution (a user retry in flight) is neither a failure nor a missing answer", async () => {
    const id = await queueJob();
    await sandbox.pool.query(
      `UPDATE executions e SET status = 'retrying' FROM jobs j WHERE e.job_id = j.id AND j.jobspec_id = $1 AND e.region = 'eu-west' AND e.question_id = 'math_basic'`, [id]);
    const checks = await receipts();
    expect(checks["job-answers"]).toMatchObject({ status: "pass", message: expect.stringContaining("1 in flight (retrying, pending or running)") });
    expect(checks.receipts).toMatchObject({ status: "pass", message: expect.stringContaining("1 rows in flight") });
  });

  it("provider-missing on the portal path: the region is not planned, and with too few regions the job stays queued with no execution", async () => {
    sandbox.incidents.set("provider-missing:eu-west", true);
    const id = await portalJob({}, { min_regions: 2 });
    expect(await statusOf(id)).toBe("queued");
    expect((await sandbox.pool.query("SELECT count(*)::int AS n FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1", [id])).rows[0].n).toBe(0);
    sandbox.incidents.set("provider-missing:eu-west", false);
  });
});
