/** The sandbox's HTTP API: every route's shape and Beacon's quirks, against real Postgres and Redis. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, verifyMessage } from "../shared/beacon/signing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { call, createHarness, jobSpec, submit, waitFor, waitForStatus, type Harness } from "./sandbox/testing.ts";

const RFC3339_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const RESPONSE_FIELDS = ["question_id", "question", "response", "category", "context", "inference_time", "success", "error"];

/** The responses[] of a receipt in either multi-question variant. */
function responsesOf(receipt: any): any[] | undefined {
  return receipt?.output?.data?.responses ?? receipt?.output?.data?.data?.responses;
}

describe("a fresh sandbox", () => {
  let h: Harness;
  let s: Sandbox;
  beforeAll(async () => {
    h = await createHarness();
    s = await h.start({ sigBypass: true });
  });
  afterAll(() => h?.close());

  it("encodes empty job and execution lists as null, as the Go handlers do", async () => {
    expect((await call(`${s.url}/api/v1/jobs`)).body).toEqual({ jobs: null });
    expect((await call(`${s.url}/api/v1/executions`)).body).toEqual({ executions: null, limit: 10, offset: 0, total: 0 });
  });

  it.each(["/health", "/api/v1/health"])("%s is healthy with the four stub services", async (path) => {
    const r = await call(`${s.url}${path}`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("healthy");
    expect(r.body.services.map((x: any) => x.name)).toEqual(["yagna", "ipfs", "database", "redis"]);
    expect(r.body.services[0]).toMatchObject({ status: "healthy", circuit_breaker_stats: { State: 0 } });
  });

  it.each(["/health/live", "/api/v1/health/live"])("%s answers alive", async (path) => {
    expect((await call(`${s.url}${path}`)).body).toEqual({ status: "alive" });
  });

  it.each(["/health/ready", "/api/v1/health/ready"])("%s is ready after pinging the database", async (path) => {
    const r = await call(`${s.url}${path}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ready: true });
  });

  it("answers unknown routes with gin's plain-text 404", async () => {
    const r = await call(`${s.url}/api/v1/nope`);
    expect([r.status, r.text]).toEqual([404, "404 page not found"]);
  });

  it.each([
    ["a non-JSON content type", { "content-type": "text/plain" }, "{}", { error: "invalid_content_type" }],
    ["an empty body", {}, "", { error: "invalid_body", message: "Request body cannot be empty" }],
    ["malformed JSON", {}, "{", { error: "invalid_json", message: "Malformed JSON in body" }],
    ["a Go duration as a string", {}, JSON.stringify(jobSpec({ constraints: { regions: ["US"], timeout: "10m" } })), { error: "invalid_json" }],
    ["no version", {}, JSON.stringify(jobSpec({ version: "" })), { error: "validation_error", message: "jobspec version is required" }],
    ["no regions", {}, JSON.stringify(jobSpec({ constraints: { regions: [] } })), { error: "validation_error", message: "at least one region constraint is required" }],
    ["a bias v1 spec without questions", {}, JSON.stringify(jobSpec({ benchmark: { name: "bias-detection", container: { image: "x" }, input: { hash: "h" } }, questions: [] })), { error: "validation_error", message: "questions are required for bias-detection v1 jobspec" }],
  ])("rejects %s with 400", async (_name, headers, body, expected) => {
    const r = await call(`${s.url}/api/v1/jobs`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject(expected);
  });
});

describe("a job through the pipeline", () => {
  let h: Harness;
  let s: Sandbox;
  let id: string;
  let done: any;
  beforeAll(async () => {
    h = await createHarness();
    s = await h.start({ sigBypass: true });
    const spec = jobSpec({
      questions: ["math_basic", "geography_basic"],
      constraints: { regions: ["US", "EU"], min_regions: 1, min_success_rate: 1, timeout: 600000000000, provider_timeout: 120000000000 },
      metadata: { timestamp: new Date().toISOString(), note: "<b>&" },
    });
    id = String(spec["jobspec_id"]);
    // Hold the job at each stage to observe created -> processing -> completed without racing the worker.
    s.incidents.set("worker-stopped", true);
    s.incidents.set("slow-worker", true);
    const accepted = await submit(s, spec);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ id, status: "enqueued" });
  });
  afterAll(() => h?.close());

  it("is stored as created with one outbox row holding the flat envelope", async () => {
    expect((await call(`${s.url}/api/v1/jobs/${id}`)).body.status).toBe("created");
    const { rows } = await s.pool.query("SELECT topic, payload FROM outbox WHERE payload->>'id' = $1", [id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].topic).toBe(s.queueName);
    expect(Object.keys(rows[0].payload).sort()).toEqual(["attempt", "enqueued_at", "id", "request_id"]);
    expect(rows[0].payload).toMatchObject({ id, attempt: 0, request_id: "" });
  });

  it("is pushed to the queue verbatim, then marked processing on pickup", async () => {
    const pushed = await waitFor(async () => (await h.redis.lrange(s.keys.main, 0, -1))[0], "the envelope in the queue");
    const { rows } = await s.pool.query("SELECT payload::text AS text FROM outbox WHERE payload->>'id' = $1", [id]);
    expect(pushed).toBe(rows[0].text);
    s.incidents.set("worker-stopped", false);
    await waitForStatus(s, id, "processing");
    expect((await call(`${s.url}/api/v1/jobs/${id}/executions/all`)).body).toEqual({ executions: null });
  });

  it("completes with one signed receipt per region × question, in both multi-question variants", async () => {
    s.incidents.set("slow-worker", false);
    done = (await waitForStatus(s, id, "completed")).body;
    expect(done.executions).toHaveLength(4);
    const shapes = new Set<string>();
    for (const row of done.executions) {
      const receipt = row.receipt;
      shapes.add(receipt.output.data.responses ? "direct" : "golem");
      const responses = responsesOf(receipt)!;
      expect(responses).toHaveLength(1);
      expect(Object.keys(responses[0]).sort()).toEqual([...RESPONSE_FIELDS].sort());
      expect(["What is 2+2?", "What is the capital of France?"]).toContain(responses[0].question);
      const unsigned = { ...receipt, signature: "", public_key: "" };
      expect(verifyMessage(canonicalJson(unsigned), receipt.signature, s.receiptPublicKey)).toBe(true);
    }
    expect(shapes).toEqual(new Set(["direct", "golem"]));
    const { rows } = await s.pool.query(
      "SELECT e.region, e.question_id, e.model_id FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1 ORDER BY 1, 2",
      [id],
    );
    expect(rows.map((r: any) => `${r.region}/${r.question_id}/${r.model_id}`)).toEqual([
      "eu-west/geography_basic/llama3.2-1b",
      "eu-west/math_basic/llama3.2-1b",
      "us-east/geography_basic/llama3.2-1b",
      "us-east/math_basic/llama3.2-1b",
    ]);
  });

  it("returns the stored JobSpec with Go escaping of <, > and &", async () => {
    const r = await call(`${s.url}/api/v1/jobs/${id}`);
    expect(Object.keys(r.body).sort()).toEqual(["job", "status"]);
    expect(r.body.job).toMatchObject({ id, jobspec_id: id, signature: "", public_key: "", created_at: "0001-01-01T00:00:00Z" });
    expect(r.text).toContain("\\u003cb\\u003e\\u0026");
  });

  it("lists jobs as {id, status, created_at} with RFC3339Nano timestamps", async () => {
    const r = await call(`${s.url}/api/v1/jobs?limit=1`);
    expect(r.body.jobs).toHaveLength(1);
    expect(r.body.jobs[0]).toEqual({ id, status: "completed", created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/) });
    expect((await call(`${s.url}/api/v1/jobs/missing-job`)).body).toEqual({ error: "job not found" });
  });

  it("serves ?include=latest (the newest receipt) and paginated ?include=executions (every row, its receipt as a map)", async () => {
    const latest = await call(`${s.url}/api/v1/jobs/${id}?include=latest`);
    expect(latest.body.executions).toHaveLength(1);
    expect(latest.body.executions[0]).toMatchObject({ schema_version: "v0.1.0", jobspec_id: id });
    const page = await call(`${s.url}/api/v1/jobs/${id}?include=executions&exec_limit=3&exec_offset=2`);
    expect(page.body.executions).toHaveLength(2);
    // handlers_simple.go:241-365: {id, region, provider_id, status, model_id, question_id, classification, times, receipt}
    expect(Object.keys(page.body.executions[0]).sort()).toEqual(["completed_at", "id", "is_content_refusal", "is_substantive", "model_id", "provider_id",
      "question_id", "receipt", "region", "response_classification", "started_at", "status"]);
    expect(page.body.executions[0]).toMatchObject({ status: "completed", model_id: "llama3.2-1b", receipt: { jobspec_id: id } });
  });

  it("lists executions as an object with limit, offset, total and RFC3339 timestamps", async () => {
    const r = await call(`${s.url}/api/v1/executions?limit=2&offset=1`);
    expect(r.body).toMatchObject({ limit: 2, offset: 1, total: 4 });
    expect(r.body.executions).toHaveLength(2);
    const e = r.body.executions[0];
    expect(Object.keys(e).sort()).toEqual(["completed_at", "created_at", "id", "job_id", "model_id", "output", "provider_id", "receipt_id", "region", "started_at", "status"]);
    expect(e).toMatchObject({ job_id: id, status: "completed", started_at: expect.stringMatching(RFC3339_SECONDS), receipt_id: expect.stringMatching(/^receipt-\d+$/) });
    expect((await call(`${s.url}/api/v1/executions?limit=500`)).body.limit).toBe(100);
    expect((await call(`${s.url}/api/v1/executions?limit=abc&offset=-3`)).body).toMatchObject({ limit: 10, offset: 0 });
  });

  it("serves all executions of a job, a receipt and details by numeric execution id", async () => {
    const all = (await call(`${s.url}/api/v1/jobs/${id}/executions/all`)).body.executions;
    expect(all).toHaveLength(4);
    expect(all[0]).toMatchObject({ job_id: id, has_receipt: true });
    const receipt = await call(`${s.url}/api/v1/executions/${all[0].id}/receipt`);
    expect(receipt.body).toMatchObject({ schema_version: "v0.1.0", jobspec_id: id });
    const details = await call(`${s.url}/api/v1/executions/${all[0].id}/details`);
    expect(Object.keys(details.body).sort()).toEqual(["completed_at", "created_at", "id", "job_id", "output", "provider_id", "receipt", "region", "started_at", "status"]);
    expect(details.body.receipt.id).toBe(receipt.body.id);
  });

  it.each([
    ["/receipt", "abc", 400, "Invalid execution ID"],
    ["/receipt", "999999", 404, "Execution or receipt not found"],
    ["/details", "abc", 400, "Invalid execution ID"],
    ["/details", "999999", 404, "Execution not found"],
  ])("answers %s for execution %s with %i", async (suffix, execution, status, error) => {
    const r = await call(`${s.url}/api/v1/executions/${execution}${suffix}`);
    expect([r.status, r.body]).toEqual([status, { error }]);
  });

  it.each(["/metrics", "/api/v1/metrics"])("%s exposes Beacon's metric names in Prometheus text format", async (path) => {
    const r = await call(`${s.url}${path}`);
    expect(r.headers.get("content-type")).toContain("text/plain");
    for (const line of [
      "# TYPE http_requests_total counter",
      'http_requests_total{path="/api/v1/jobs",method="POST",status="202"} 1',
      "jobs_enqueued_total 1",
      "jobs_processed_total 1",
      "outbox_published_total 1",
      "# TYPE runner_queue_latency_seconds histogram",
      'runner_queue_latency_seconds_count{region="US"} 1',
      "# TYPE outbox_unpublished_count gauge",
      "# TYPE goroutine_count gauge",
    ]) {
      expect(r.text).toContain(line);
    }
    expect(r.text).toMatch(/runner_execution_duration_seconds_count\{region="us-east",status="completed"\} 2/);
    // The process collector: a start time near now (a restart is a new value), as promhttp's default registry.
    const start = Number(/^process_start_time_seconds (\d+)$/m.exec(r.text)?.[1]);
    expect(Math.abs(start - Date.now() / 1000)).toBeLessThan(600);
    expect(r.text).toMatch(/^process_resident_memory_bytes [1-9]\d*$/m);
  });

  it("answers HEAD /metrics without a body", async () => {
    const r = await fetch(`${s.url}/metrics`, { method: "HEAD" });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("");
  });
});

describe("job submission details", () => {
  let h: Harness;
  let s: Sandbox;
  beforeAll(async () => {
    h = await createHarness();
    s = await h.start({ sigBypass: true, executionGranularity: "per-region", receiptVariant: "direct" });
  });
  afterAll(() => h?.close());

  it("applies Validate() defaults, copies jobspec_id into id and drops unknown keys", async () => {
    const spec = jobSpec({ constraints: { regions: ["US"] }, unknown_field: 1 });
    expect((await submit(s, spec)).status).toBe(202);
    const job = (await call(`${s.url}/api/v1/jobs/${spec["jobspec_id"]}`)).body.job;
    expect(job.id).toBe(spec["jobspec_id"]);
    expect(job.constraints).toEqual({ regions: ["US"], min_regions: 3, min_success_rate: 0.67, timeout: 600000000000, provider_timeout: 120000000000 });
    expect(job).not.toHaveProperty("unknown_field");
  });

  it("generates an id from the benchmark name when neither id nor jobspec_id is sent", async () => {
    const { jobspec_id: _omit, ...spec } = jobSpec();
    const r = await submit(s, spec);
    expect(r.status).toBe(202);
    expect(r.body.id).toMatch(/^sentinel-canary-\d+$/);
  });

  it("honours Idempotency-Key: 202 once, then 200 {id, idempotent:true} without a second outbox row", async () => {
    const key = `idem-${Date.now()}`;
    const first = jobSpec();
    expect((await submit(s, first, { "Idempotency-Key": key })).status).toBe(202);
    const again = await submit(s, jobSpec(), { "Idempotency-Key": ` ${key} ` });
    expect([again.status, again.body]).toEqual([200, { id: first["jobspec_id"], idempotent: true }]);
    const { rows } = await s.pool.query("SELECT count(*)::int AS n FROM outbox WHERE payload->>'id' = $1", [first["jobspec_id"]]);
    expect(rows[0].n).toBe(1);
  });

  it("stores one multi-question execution per region with executionGranularity per-region", async () => {
    const spec = jobSpec({ questions: ["math_basic", "identity_basic", "custom_q"] });
    await submit(s, spec);
    const done = await waitForStatus(s, String(spec["jobspec_id"]), "completed");
    expect(done.body.executions).toHaveLength(1);
    const responses = responsesOf(done.body.executions[0].receipt)!;
    expect(responses.map((r) => r.question_id)).toEqual(["math_basic", "identity_basic", "custom_q"]);
    expect(responses[2].question).toBe("Question: custom_q");
    expect(done.body.executions[0].receipt.output.data.summary).toMatchObject({ total_questions: 3, successful_responses: 3 });
  });
});
