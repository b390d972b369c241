import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BeaconSettings } from "../shared/beacon/settings.ts";
import { silentLogger } from "../shared/log.ts";
import type { Check } from "../shared/result.ts";
import { receiptsProbe } from "../shared/probes/receipts/index.ts";
import type { ReceiptsSettings } from "../shared/probes/receipts/settings.ts";
import type { ProbeContext } from "../shared/probes/types.ts";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import { buildReceipt, type ReceiptVariant } from "./sandbox/receipts.ts";
import type { Pool } from "@neondatabase/serverless";
import { closePool, createSqlPool } from "../shared/db.ts";
import { createSqlClient, type SqlClient } from "../shared/sql.ts";
import { testServices } from "./support/env.ts";

function ctx(apiUrl: string | null, overrides: Partial<ReceiptsSettings> = {}, sql?: SqlClient): ProbeContext<ReceiptsSettings> {
  return {
    deps: { now: () => new Date(), fetch, log: silentLogger, ...(sql ? { sql } : {}) },
    settings: receiptsProbe.settings.parse(overrides),
    beacon: BeaconSettings.parse({}),
    targets: { ...(apiUrl ? { apiUrl } : {}), healthUrls: [] },
    signal: new AbortController().signal,
  };
}

/** Beacon's database as the probe sees it in the sandbox tests (set in their beforeAll). */
let sandboxSql: SqlClient | undefined;

async function run(apiUrl: string | null, overrides: Partial<ReceiptsSettings> = {}): Promise<Record<string, Check>> {
  const out = await receiptsProbe.run(ctx(apiUrl, overrides, sandboxSql));
  expect(out.checks.map((c) => c.name)).toEqual(["executions-api", "jobs-api", "id-mapping", "receipts", "job-answers"]);
  return Object.fromEntries(out.checks.map((c) => [c.name, c]));
}

const statuses = (checks: Record<string, Check>) => Object.fromEntries(Object.entries(checks).map(([n, c]) => [n, c.status]));
const ALL_PASS = { "executions-api": "pass", "jobs-api": "pass", "id-mapping": "pass", receipts: "pass", "job-answers": "pass" };

describe("receipts probe against the Beacon sandbox", () => {
  let h: Harness;
  let prefix: string;
  let sandbox: Sandbox;
  let probePool: Pool | undefined;
  let seq = 0;

  /** Submits a two-region, two-question job and waits until the sandbox has run it. */
  async function runJob(): Promise<string> {
    const id = `${prefix}bias-${++seq}`;
    const res = await fetch(`${sandbox.url}/api/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jobspec_id: id, version: "v1", benchmark: { name: "bias-detection", container: { image: "beacon/llama" }, input: { hash: "sha256:1" } },
        constraints: { regions: ["US", "EU"], min_regions: 1 }, questions: ["identity_basic", "math_basic"] }),
    });
    expect(res.status).toBe(202);
    await sandbox.drain();
    return id;
  }

  async function executionIds(jobspecId: string): Promise<number[]> {
    const { rows } = await sandbox.pool.query<{ id: number }>("SELECT e.id FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1 ORDER BY e.id", [jobspecId]);
    return rows.map((r) => r.id);
  }

  beforeAll(async () => {
    h = await createHarness();
    prefix = h.prefix;
    sandbox = await h.start({ sigBypass: true, executionDelayMs: 5 });
    probePool = createSqlPool({ connectionString: h.db.connectionString, wsProxy: testServices().postgres.wsProxy, max: 2 });
    sandboxSql = createSqlClient(probePool, { statementTimeoutMs: 5_000 });
    await runJob();
  });
  afterAll(async () => {
    sandboxSql = undefined;
    if (probePool) await closePool(probePool);
    await h?.close();
  });
  beforeEach(() => sandbox.incidents.reset());

  it("passes on a healthy pipeline, judging both receipt variants", async () => {
    const checks = await run(sandbox.url);
    expect(statuses(checks)).toEqual(ALL_PASS);
    expect(checks.receipts?.message).toMatch(/^4 receipts of 1 jobs valid \(direct 2, nested 2\)/);
  });

  it("executions-500: fails executions-api with the URL and status, then recovers", async () => {
    sandbox.incidents.set("executions-500", true);
    const on = await run(sandbox.url);
    expect(statuses(on)).toEqual({ ...ALL_PASS, "executions-api": "fail" });
    expect(on["executions-api"]).toMatchObject({ observed: 500, message: expect.stringMatching(/the executions-API incident/) });
    expect(on["executions-api"]?.evidence).toEqual([`${sandbox.url}/api/v1/executions?… -> HTTP 500: {"error":"Failed to fetch executions"}`]);
    sandbox.incidents.set("executions-500", false);
    expect(statuses(await run(sandbox.url))).toEqual(ALL_PASS);
  });

  it("legacy-text-output: fails receipts naming the job and its execution ids, then recovers", async () => {
    sandbox.incidents.set("legacy-text-output", true);
    const bad = await runJob();
    const on = await run(sandbox.url, { maxJobs: 1, answerJobs: 1 });
    expect(statuses(on)).toEqual({ ...ALL_PASS, receipts: "fail", "job-answers": "fail" });
    expect(on.receipts?.observed).toBe(4);
    expect(on["job-answers"]?.evidence).toHaveLength(4);
    expect(on["job-answers"]?.evidence[0]).toMatch(new RegExp(`^job ${bad} execution \\d+ \\((us-east|eu-west) / llama3.2-1b / (identity_basic|math_basic)\\): receipt holds a single output.data.text_output`));
    const shape = new RegExp(`^job ${bad} execution (\\d+) \\(receipt receipt-\\d+, (us-east|eu-west) / llama3.2-1b / \\w+\\): single output.data.text_output`);
    const named = on.receipts!.evidence.map((line) => Number(shape.exec(line)?.[1]));
    expect(named.sort((a, b) => a - b)).toEqual(await executionIds(bad));
    sandbox.incidents.set("legacy-text-output", false);
    await runJob(); // the newest completed job is judged; the bad one is older now
    expect(statuses(await run(sandbox.url, { maxJobs: 1, answerJobs: 1 }))).toEqual(ALL_PASS);
  });

  it("a placeholder question text in a receipt: job-answers fails naming job and execution, then passes once restored", async () => {
    const id = await runJob();
    const { rows } = await sandbox.pool.query<{ id: number; question_id: string; text: string }>(
      `SELECT e.id, e.question_id, e.receipt_data->'output'->'data'->'responses'->0->>'question' AS text FROM executions e JOIN jobs j ON e.job_id = j.id
       WHERE j.jobspec_id = $1 AND jsonb_typeof(e.receipt_data->'output'->'data'->'responses') = 'array' ORDER BY e.id LIMIT 1`, [id]);
    const target = rows[0]!;
    const setQuestion = (text: string) => sandbox.pool.query(
      "UPDATE executions SET receipt_data = jsonb_set(receipt_data, '{output,data,responses,0,question}', to_jsonb($2::text)) WHERE id = $1", [target.id, text]);
    await setQuestion(`Question text for ${target.question_id}`);
    const on = await run(sandbox.url, { maxJobs: 1, answerJobs: 1 });
    expect(on["job-answers"]?.evidence).toEqual([
      expect.stringMatching(new RegExp(`^job ${id} execution ${target.id} \\((us-east|eu-west) / llama3.2-1b / ${target.question_id}\\): placeholder question text "Question text for ${target.question_id}"$`)),
    ]);
    await setQuestion(target.text);
    expect(statuses(await run(sandbox.url, { maxJobs: 1, answerJobs: 1 }))).toEqual(ALL_PASS);
  });

  it("undecodable-receipt: Beacon serves it as stored (only ?include=latest decodes), so receipts fails naming each execution and the field; then passes", async () => {
    // Beacon's ?include=executions returns every row with its receipt as a map (handlers_simple.go:241-365);
    // only ?include=latest decodes into the Go struct, and answers no execution when that fails (:228-238).
    sandbox.incidents.set("undecodable-receipt", true);
    const bad = await runJob();
    const on = await run(sandbox.url, { maxJobs: 1, answerJobs: 1 });
    expect(statuses(on)).toEqual({ ...ALL_PASS, receipts: "fail" });
    expect(on.receipts?.evidence).toHaveLength(4);
    expect(on.receipts?.evidence[0]).toMatch(new RegExp(`^job ${bad} execution \\d+ \\(receipt receipt-\\d+, (us-east|eu-west) / llama3.2-1b / \\w+\\): execution_details.duration: `));
    expect((await (await fetch(`${sandbox.url}/api/v1/jobs/${bad}?include=latest`)).json()).executions).toEqual([]);
    expect(on["job-answers"]?.status).toBe("pass"); // the answers themselves are there
    sandbox.incidents.set("undecodable-receipt", false);
    await runJob();
    expect(statuses(await run(sandbox.url, { maxJobs: 1, answerJobs: 1 }))).toEqual(ALL_PASS);
  });

  it("empty-id: fails id-mapping with the jobspec ids, from the list and the details, then recovers", async () => {
    sandbox.incidents.set("empty-id", true);
    const on = await run(sandbox.url, { maxJobs: 1, answerJobs: 1 });
    expect(statuses(on)).toEqual({ ...ALL_PASS, "id-mapping": "fail" });
    const newest = `${prefix}bias-${seq}`;
    expect(on["id-mapping"]?.evidence[0]).toMatch(new RegExp(`^jobs\\[0\\] \\(status completed, created .*, jobspec_id ${newest}\\): empty id in the job list$`));
    expect(on["id-mapping"]?.evidence).toContain(`job ${newest}: job.id is empty in the job details (jobspec_id "${newest}")`);
    expect(on["id-mapping"]?.evidenceTotal).toBe(seq + 1); // every listed job, plus the one whose details were read
    sandbox.incidents.set("empty-id", false);
    expect(statuses(await run(sandbox.url, { maxJobs: 1, answerJobs: 1 }))).toEqual(ALL_PASS);
  });

  it("database-down: fails both APIs with their URLs and says what Beacon reports, then recovers", async () => {
    sandbox.incidents.set("database-down", true);
    const on = await run(sandbox.url, { answerJobs: 1 });
    // The database itself is up: job-answers still reads it (Beacon's API is what went database-less).
    expect(statuses(on)).toEqual({ "executions-api": "fail", "jobs-api": "fail", "id-mapping": "error", receipts: "error", "job-answers": "pass" });
    expect(on["executions-api"]?.evidence).toEqual([`${sandbox.url}/api/v1/executions?… -> HTTP 500: {"error":"Database connection not available"}`]);
    expect(on["jobs-api"]?.evidence).toEqual([`${sandbox.url}/api/v1/jobs?… -> HTTP 503: {"error":"persistence unavailable"} (Beacon runs without its database)`]);
    sandbox.incidents.set("database-down", false);
    expect(statuses(await run(sandbox.url, { maxJobs: 1, answerJobs: 1 }))).toEqual(ALL_PASS); // maxJobs 1: skip the legacy-output job above
  });
});

describe("receipts probe against hostile answers (stand-in API)", () => {
  /** No database here: job-answers reports itself not measured. */
  const ALL_PASS = { "executions-api": "pass", "jobs-api": "pass", "id-mapping": "pass", receipts: "pass", "job-answers": "error" };
  type Handler = (req: IncomingMessage, res: ServerResponse) => void;
  let server: Server;
  let url: string;
  let routes: Record<string, Handler> = {};
  const json = (body: unknown, status = 200): Handler => (_req, res) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };

  const keys = generateKeyPair();
  const now = new Date();
  const receipt = (jobId: string, questionIds: string[], variant: ReceiptVariant = "direct") =>
    buildReceipt({ jobspecId: jobId, benchmarkName: "bias-detection", region: "us-east", providerId: "p", modelId: "m", questionIds, prompt: "",
      startedAt: now, completedAt: now, variant }, keys) as Record<string, unknown> & { id: string; output: { data: { responses: Record<string, unknown>[] } } };
  const spec = (id: string, questions: string[]) => ({ id, jobspec_id: id, version: "v1", benchmark: { name: "bias-detection", container: { image: "i" }, input: { hash: "h" } },
    constraints: { regions: ["US"] }, questions });
  /** A healthy API with one completed job `job-1` and the given receipts. */
  function api(receipts: unknown[], questions = ["identity_basic", "math_basic"]) {
    routes = {
      "/api/v1/executions": json({ executions: [{ id: 41, job_id: "job-1", status: "completed", region: "us-east", provider_id: "p", started_at: "", completed_at: "",
        created_at: now.toISOString(), receipt_id: (receipts[0] as { id?: string } | undefined)?.id ?? "" }], limit: 20, offset: 0, total: 1 }),
      "/api/v1/jobs": json({ jobs: [{ id: "job-1", status: "completed", created_at: now.toISOString() }] }),
      "/api/v1/jobs/job-1": json({ job: spec("job-1", questions), status: "completed", executions: receipts }),
    };
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      const handler = routes[new URL(req.url ?? "/", "http://x").pathname];
      if (handler) handler(req, res);
      else json({ error: "not found" }, 404)(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("passes a valid multi-question receipt and names its execution", async () => {
    api([receipt("job-1", ["identity_basic", "math_basic"], "golem")]);
    const checks = await run(url);
    expect(statuses(checks)).toEqual(ALL_PASS);
    expect(checks.receipts?.message).toMatch(/1 receipts of 1 jobs valid \(nested 1\)/);
  });

  it("fails receipts on a 10 MB job details body without reading it all", async () => {
    const big = receipt("job-1", ["identity_basic", "math_basic"]);
    big.output.data.responses[0]!["response"] = "x".repeat(10 * 1024 * 1024);
    api([big]);
    const checks = await run(url);
    expect(statuses(checks)).toEqual({ ...ALL_PASS, receipts: "fail" });
    expect(checks.receipts?.evidence).toEqual([`job job-1: ${url}/api/v1/jobs/job-1?…: body larger than 2097152 bytes (not read further)`]);
  });

  it.each([
    ["a placeholder question text", (r: ReturnType<typeof receipt>) => (r.output.data.responses[0]!["question"] = "Question text for identity_basic"), /responses\[0\] \(identity_basic\): placeholder question text "Question text for identity_basic"/],
    ["the question id as its text", (r: ReturnType<typeof receipt>) => (r.output.data.responses[1]!["question"] = "math_basic"), /responses\[1\] \(math_basic\): question text is the question id/],
    ["an empty response", (r: ReturnType<typeof receipt>) => (r.output.data.responses[0]!["response"] = ""), /responses\[0\] \(identity_basic\): response is empty/],
    ["an empty question_id", (r: ReturnType<typeof receipt>) => (r.output.data.responses[0]!["question_id"] = ""), /output.data: /],
    ["an answer count that matches neither 1 nor the job's questions", (r: ReturnType<typeof receipt>) => r.output.data.responses.push({ ...r.output.data.responses[0]!, question_id: "taiwan_status" }), /3 responses for the job's 2 questions/],
    ["a receipt of another job", (r: ReturnType<typeof receipt>) => (r["jobspec_id"] = "job-9"), /receipt is for job "job-9"/],
    ["no output at all", (r: ReturnType<typeof receipt>) => delete (r as Record<string, unknown>)["output"], /neither output.response \(Modal\), output.data.response \(portal\) nor output.data\[.data\].responses\[\] \(classic\)/],
  ])("fails receipts on %s, naming job, execution and receipt", async (_name, spoil, problem) => {
    const r = receipt("job-1", ["identity_basic", "math_basic"]);
    spoil(r);
    api([r]);
    const checks = await run(url);
    expect(statuses(checks)).toEqual({ ...ALL_PASS, receipts: "fail" });
    expect(checks.receipts?.evidence).toHaveLength(1);
    expect(checks.receipts?.evidence[0]).toMatch(new RegExp(`^job job-1 execution 41 \\(receipt ${r.id}, us-east\\): `));
    expect(checks.receipts?.evidence[0]).toMatch(problem);
  });

  it("accepts one-question receipts of a multi-question job (Beacon's per-question executions)", async () => {
    api([receipt("job-1", ["identity_basic"]), receipt("job-1", ["math_basic"], "golem")]);
    expect(statuses(await run(url))).toEqual(ALL_PASS);
  });

  it.each([
    ["an HTML error page", json("<html>502 Bad Gateway</html>"), "fail", /not JSON/],
    ["a bare array (the wrong shape)", json([]), "fail", /not Beacon's shape .*the executions-API incident/],
    ["a 500", json({ error: "Failed to fetch executions" }, 500), "fail", /HTTP 500: .*the executions-API incident/],
  ])("fails executions-api on %s, with evidence", async (_name, handler, status, message) => {
    api([receipt("job-1", ["identity_basic", "math_basic"])]);
    routes["/api/v1/executions"] = handler;
    const checks = await run(url);
    expect(checks["executions-api"]).toMatchObject({ status, message: expect.stringMatching(message) });
    expect(checks["executions-api"]?.evidence[0]).toMatch(new RegExp(`^${url}/api/v1/executions\\?…`));
    expect(checks.receipts?.status).toBe("pass"); // the job list still names the job
  });

  it("fails jobs-api when job details are not JSON or a listed job is missing", async () => {
    api([]);
    routes["/api/v1/jobs"] = json({ jobs: [{ id: "job-1", status: "completed", created_at: now.toISOString() }, { id: "job-2", status: "completed", created_at: now.toISOString() }] });
    routes["/api/v1/jobs/job-1"] = json("not json {");
    const checks = await run(url);
    expect(checks["jobs-api"]?.status).toBe("fail");
    expect(checks["jobs-api"]?.evidence).toEqual([
      expect.stringMatching(new RegExp(`^job job-1: ${url}/api/v1/jobs/job-1\\?…: not JSON`)),
      `job job-2: ${url}/api/v1/jobs/job-2?… -> HTTP 404: {"error":"not found"}`,
    ]);
    expect(checks.receipts?.status).toBe("error");
  });

  it("fails executions-api on a hanging endpoint, bounded by requestTimeoutMs, and still judges the rest", async () => {
    api([receipt("job-1", ["identity_basic", "math_basic"])]);
    routes["/api/v1/executions"] = () => {}; // never answers
    const checks = await run(url, { requestTimeoutMs: 200 });
    expect(checks["executions-api"]).toMatchObject({ status: "fail", observed: "timeout", evidence: [`${url}/api/v1/executions?…: no answer within 200 ms`] });
    expect(checks.receipts?.status).toBe("pass");
  });

  it("passes with nothing to judge when Beacon lists no jobs (null lists)", async () => {
    routes = {
      "/api/v1/executions": json({ executions: null, limit: 20, offset: 0, total: 0 }),
      "/api/v1/jobs": json({ jobs: null }),
    };
    const checks = await run(url);
    expect(statuses(checks)).toEqual(ALL_PASS);
    expect(checks.receipts?.message).toMatch(/no jobs to judge: no completed jobs created in the last 6 h among 0 listed/);
  });

  it("ignores completed jobs older than the lookback", async () => {
    api([receipt("job-1", ["identity_basic"], "legacy-text")]);
    routes["/api/v1/jobs"] = json({ jobs: [{ id: "job-1", status: "completed", created_at: "2020-01-01T00:00:00Z" }] });
    routes["/api/v1/executions"] = json({ executions: null, limit: 20, offset: 0, total: 0 });
    expect((await run(url)).receipts).toMatchObject({ status: "pass", observed: 0 });
  });

  it("reports every check as not measured without BEACON_API_URL", async () => {
    expect(Object.values(statuses(await run(null)))).toEqual(["error", "error", "error", "error", "error"]);
  });
});
