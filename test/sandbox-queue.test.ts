/** Outbox publisher and Redis queue semantics, quirks included (contract sheet §2 and §3). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "./sandbox/index.ts";
import { call, createHarness, jobSpec, submit, waitFor, waitForStatus, type Harness } from "./sandbox/testing.ts";

let h: Harness;
let s: Sandbox;
beforeAll(async () => {
  h = await createHarness();
  // 1 ms retry unit: a retried message is due again within the next second (scores are unix seconds).
  s = await h.start({ sigBypass: true, retryDelayMs: 1 });
});
afterAll(() => h?.close());

const envelope = (id: string) => JSON.stringify({ attempt: 0, enqueued_at: new Date().toISOString(), id, request_id: "" });
const executionCount = async (id: string) =>
  Number((await s.pool.query("SELECT count(*) AS n FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1", [id])).rows[0].n);

/** Submits a job with the worker held, so that the test decides what reaches the queue. */
async function heldJob(): Promise<string> {
  s.incidents.set("worker-stopped", true);
  const spec = jobSpec();
  await submit(s, spec);
  const id = String(spec["jobspec_id"]);
  await waitFor(async () => (await s.pool.query("SELECT 1 FROM outbox WHERE payload->>'id' = $1 AND published_at IS NOT NULL", [id])).rowCount === 1, "the outbox row to be published");
  await h.redis.del(s.keys.main);
  s.incidents.set("worker-stopped", false);
  return id;
}

describe("outbox publisher", () => {
  it("leaves a row missing a required key unpublished forever, counting an error on every pass, while others flow", async () => {
    const { rows } = await s.pool.query("INSERT INTO outbox (topic, payload) VALUES ($1, $2) RETURNING id", [s.queueName, JSON.stringify({ id: "poison", attempt: 0 })]);
    const errorsBefore = s.metrics.value("outbox_publish_errors_total");
    const spec = jobSpec();
    await submit(s, spec);
    await waitForStatus(s, String(spec["jobspec_id"]), "completed");
    await waitFor(async () => s.metrics.value("outbox_publish_errors_total") >= errorsBefore + 2 || undefined, "repeated publish errors");
    const poison = await s.pool.query("SELECT published_at FROM outbox WHERE id = $1", [rows[0].id]);
    expect(poison.rows[0].published_at).toBeNull();
    await s.drain();
    expect(s.metrics.value("outbox_unpublished_count")).toBe(1);
  });
});

describe("queue worker", () => {
  it("dead-letters a flat envelope whose handler fails at once (read as a JobMessage it has max_retries 0)", async () => {
    await h.redis.rpush(s.keys.main, envelope("no-such-job"));
    const dead = await waitFor(async () => (await h.redis.lrange(s.keys.dead, 0, -1)).find((m) => m.includes("no-such-job")), "the dead-lettered envelope");
    const message = JSON.parse(dead);
    expect(Object.keys(message)).toEqual(["id", "jobspec_id", "action", "payload", "attempts", "max_retries", "enqueued_at", "last_attempt", "error"]);
    expect(message).toMatchObject({ id: "no-such-job", jobspec_id: "", payload: null, attempts: 1, max_retries: 0, error: "get job: job not found: no-such-job" });
    expect(await h.redis.zcard(s.keys.retry)).toBe(0);
    expect(await h.redis.exists(`${s.keys.main}:processing:no-such-job`)).toBe(0);
  });

  it("retries a JobMessage through the retry ZSET until attempts reach max_retries, then dead-letters it", async () => {
    const message = { id: "msg-retry:1", jobspec_id: "missing-job", action: "execute", payload: null, attempts: 0, max_retries: 3, enqueued_at: new Date().toISOString() };
    await h.redis.lpush(s.keys.main, JSON.stringify(message));
    const dead = await waitFor(async () => (await h.redis.lrange(s.keys.dead, 0, -1)).find((m) => m.includes("msg-retry:1")), "the message to exhaust its retries");
    expect(JSON.parse(dead)).toMatchObject({ attempts: 3, max_retries: 3, error: "get job: job not found: missing-job" });
    // Beacon never increments its retry/dead-letter counters: they stay 0 through two retries and a dead letter.
    expect([s.metrics.value("jobs_retried_total"), s.metrics.value("jobs_deadletter_total")]).toEqual([0, 0]);
  });

  it("loses a message it cannot parse, then handles the next raw envelope through the simple fallback", async () => {
    const id = await heldJob();
    await h.redis.rpush(s.keys.main, envelope(id), "not json");
    await waitForStatus(s, id, "completed");
    expect(await h.redis.llen(s.keys.main)).toBe(0);
  });

  it("rebuilds a message that is not a JobMessage but names a job (Dequeue's fallback): it runs, and on failure it is retried, not lost", async () => {
    const id = await heldJob();
    // "enqueued_at" is not RFC 3339: Go cannot unmarshal the JobMessage, the fallback reads the id.
    await h.redis.rpush(s.keys.main, JSON.stringify({ id, enqueued_at: "yesterday", attempt: 0 }));
    await waitForStatus(s, id, "completed");
    await h.redis.rpush(s.keys.main, JSON.stringify({ id: "ghost-job", enqueued_at: "yesterday" }));
    // Retried through the retry set until its three attempts are spent (a flat envelope read as a JobMessage gets none).
    const dead = await waitFor(async () => (await h.redis.lrange(s.keys.dead, 0, -1)).find((m) => m.includes("env:ghost-job:")), "the rebuilt message to exhaust its retries");
    expect(JSON.parse(dead)).toMatchObject({ id: expect.stringMatching(/^env:ghost-job:\d+$/), jobspec_id: "ghost-job", attempts: 3, max_retries: 3 });
  });

  it("skips a job whose per-job lock is held, and runs it once the lock is gone", async () => {
    const id = await heldJob();
    await h.redis.set(`${h.prefix}job:processing:${id}`, "1", "EX", 60);
    await h.redis.rpush(s.keys.main, envelope(id));
    await waitFor(async () => (await h.redis.llen(s.keys.main)) === 0 || undefined, "the message to be consumed");
    await s.drain();
    expect((await call(`${s.url}/api/v1/jobs/${id}`)).body.status).toBe("created");
    await h.redis.del(`${h.prefix}job:processing:${id}`);
    await h.redis.rpush(s.keys.main, envelope(id));
    await waitForStatus(s, id, "completed");
  });

  it("skips a redelivered job that is already completed", async () => {
    const spec = jobSpec();
    const id = String(spec["jobspec_id"]);
    await submit(s, spec);
    await waitForStatus(s, id, "completed");
    const before = await executionCount(id);
    await h.redis.rpush(s.keys.main, envelope(id));
    await waitFor(async () => (await h.redis.llen(s.keys.main)) === 0 || undefined, "the redelivery to be consumed");
    await s.drain();
    expect(await executionCount(id)).toBe(before);
  });

  it("runs every model in each of the job's regions it lists, recording model_id", async () => {
    const models = [
      { id: "llama3.2-1b", name: "Llama", provider: "modal", container_image: "x", regions: ["US", "EU"] },
      { id: "qwen2.5-1.5b", name: "Qwen", provider: "modal", container_image: "y", regions: ["APAC", "CA"] }, // CA: not a job region
    ];
    const constraints = { regions: ["US", "EU", "APAC"], min_regions: 1, min_success_rate: 1, timeout: 600000000000, provider_timeout: 120000000000 };
    const spec = jobSpec({ models, constraints });
    await submit(s, spec);
    await waitForStatus(s, String(spec["jobspec_id"]), "completed");
    const { rows } = await s.pool.query(
      "SELECT e.model_id, e.region FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1 ORDER BY 1, 2",
      [spec["jobspec_id"]],
    );
    expect(rows.map((r: any) => `${r.model_id}@${r.region}`)).toEqual(["llama3.2-1b@eu-west", "llama3.2-1b@us-east", "qwen2.5-1.5b@asia-pacific"]);
  });
});
