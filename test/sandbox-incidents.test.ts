/**
 * Every incident switch produces its documented broken state, and the pipeline recovers once it is
 * turned off. States are reached by polling (`waitFor`) or by `drain()`, never by sleeping.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { INCIDENT_NAMES, type Sandbox } from "./sandbox/index.ts";
import { testServices } from "./support/env.ts";
import { createJob, outboxEnvelope } from "./sandbox/store-jobs.ts";
import { call, createHarness, jobSpec, submit, waitFor, waitForStatus, type Harness } from "./sandbox/testing.ts";

let h: Harness;
let s: Sandbox;
beforeAll(async () => {
  h = await createHarness();
  s = await h.start({ sigBypass: true });
});
afterEach(async () => {
  s.incidents.reset();
  await s.drain();
});
afterAll(() => h?.close());

async function submitted(overrides: Record<string, unknown> = {}): Promise<string> {
  const spec = jobSpec(overrides);
  const r = await submit(s, spec);
  expect(r.status).toBe(202);
  return String(spec["jobspec_id"]);
}

const statusOf = async (id: string) => (await call(`${s.url}/api/v1/jobs/${id}`)).body.status as string;
const outboxRows = async (id: string) =>
  (await s.pool.query("SELECT published_at FROM outbox WHERE payload->>'id' = $1", [id])).rows as { published_at: unknown }[];

describe("the switchboard", () => {
  it("lists every incident over HTTP with its state and description", async () => {
    const r = await call(`${s.url}/__sandbox/incidents`);
    expect(r.body.incidents.map((i: any) => i.name)).toEqual(INCIDENT_NAMES);
    expect(r.body.incidents.every((i: any) => i.on === false && i.description.length > 20)).toBe(true);
  });

  it("flips an incident over HTTP, visible through the API object", async () => {
    const r = await call(`${s.url}/__sandbox/incidents/worker-stopped`, { method: "POST", json: { on: true } });
    expect(r.body).toMatchObject({ name: "worker-stopped", on: true });
    expect(s.incidents.isOn("worker-stopped")).toBe(true);
  });

  it.each([
    ["an unknown incident", "/__sandbox/incidents/nope", { on: true }, 404],
    ["a body without a boolean on", "/__sandbox/incidents/empty-id", { on: "yes" }, 400],
  ])("rejects %s", async (_name, path, json, status) => {
    expect((await call(`${s.url}${path}`, { method: "POST", json })).status).toBe(status);
  });

  it("rejects unknown names on the API object", () => {
    expect(() => s.incidents.set("nope" as never, true)).toThrow(/unknown incident/);
  });
});

describe("incidents", () => {
  it("no-outbox-row: the job row is written without an outbox row and stays created; republishing recovers it", async () => {
    s.incidents.set("no-outbox-row", true);
    const id = await submitted();
    await s.drain();
    expect(await outboxRows(id)).toHaveLength(0);
    expect(await statusOf(id)).toBe("created");
    s.incidents.set("no-outbox-row", false);
    const r = await call(`${s.url}/emergency/republish-stuck-jobs`, { method: "POST" });
    expect(r.body).toMatchObject({ message: "republished stuck jobs", republished: r.body.total_found });
    await waitForStatus(s, id, "completed");
  });

  it("payload-mismatch: the message loses the jobspec id, is dead-lettered, and the job stays created", async () => {
    s.incidents.set("payload-mismatch", true);
    const deadBefore = await h.redis.llen(s.keys.dead);
    const id = await submitted();
    const dead = await waitFor(async () => {
      const items = await h.redis.lrange(s.keys.dead, 0, -1);
      return items.length > deadBefore ? items[0] : undefined;
    }, "a dead-lettered message");
    expect(JSON.parse(dead!)).toMatchObject({ id: expect.stringMatching(new RegExp(`^${id}:\\d+$`)), jobspec_id: "", attempts: 1, max_retries: 0, error: expect.stringContaining("job not found") });
    expect((await outboxRows(id))[0]!.published_at).not.toBeNull();
    await s.drain();
    expect(await statusOf(id)).toBe("created");
    expect(s.metrics.value("jobs_deadletter_total")).toBe(0); // registered, never incremented by Beacon
    s.incidents.set("payload-mismatch", false);
    await call(`${s.url}/emergency/republish-stuck-jobs`, { method: "POST" });
    await waitForStatus(s, id, "completed");
  });

  it("legacy-text-output: receipts carry a single output.data.text_output instead of responses", async () => {
    s.incidents.set("legacy-text-output", true);
    const broken = (await waitForStatus(s, await submitted(), "completed")).body.executions[0].receipt;
    expect(typeof broken.output.data.text_output).toBe("string");
    expect(broken.output.data.responses ?? broken.output.data.data?.responses).toBeUndefined();
    s.incidents.set("legacy-text-output", false);
    const fixed = (await waitForStatus(s, await submitted(), "completed")).body.executions[0].receipt;
    expect(fixed.output.data.text_output).toBeUndefined();
  });

  it("executions-500: the executions API fails with 500 Failed to fetch executions", async () => {
    const id = await submitted();
    await waitForStatus(s, id, "completed");
    const execution = (await call(`${s.url}/api/v1/jobs/${id}/executions/all`)).body.executions[0].id;
    s.incidents.set("executions-500", true);
    const list = await call(`${s.url}/api/v1/executions`);
    expect([list.status, list.body]).toEqual([500, { error: "Failed to fetch executions" }]);
    expect((await call(`${s.url}/api/v1/jobs/${id}/executions/all`)).status).toBe(500);
    expect((await call(`${s.url}/api/v1/executions/${execution}/receipt`)).body).toEqual({ error: "Failed to fetch receipt" });
    s.incidents.set("executions-500", false);
    expect((await call(`${s.url}/api/v1/executions`)).status).toBe(200);
    expect((await call(`${s.url}/api/v1/executions/${execution}/receipt`)).status).toBe(200);
  });

  it('empty-id: job list and details carry "id": "" while jobspec_id is set', async () => {
    const id = await submitted();
    s.incidents.set("empty-id", true);
    const listed = (await call(`${s.url}/api/v1/jobs`)).body.jobs.find((j: any) => j.jobspec_id === id);
    expect(listed).toMatchObject({ id: "", jobspec_id: id });
    expect((await call(`${s.url}/api/v1/jobs/${id}`)).body.job).toMatchObject({ id: "", jobspec_id: id });
    s.incidents.set("empty-id", false);
    expect((await call(`${s.url}/api/v1/jobs`)).body.jobs.map((j: any) => j.id)).toContain(id);
    expect((await call(`${s.url}/api/v1/jobs/${id}`)).body.job.id).toBe(id);
  });

  it("worker-stopped: the backlog grows and jobs stay created; restarted, the newest job runs first (LIFO)", async () => {
    s.incidents.set("worker-stopped", true);
    const older = await submitted();
    const newer = await submitted();
    await waitFor(async () => (await h.redis.llen(s.keys.main)) === 2 || undefined, "two messages in the backlog");
    await s.drain();
    expect([await statusOf(older), await statusOf(newer), await h.redis.llen(s.keys.main)]).toEqual(["created", "created", 2]);
    s.incidents.set("worker-stopped", false);
    await waitForStatus(s, older, "completed");
    const { rows } = await s.pool.query(
      "SELECT j.jobspec_id, min(e.id) AS first FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = ANY($1) GROUP BY 1",
      [[older, newer]],
    );
    const first = Object.fromEntries(rows.map((r: any) => [r.jobspec_id, Number(r.first)]));
    expect(first[newer]).toBeLessThan(first[older]!);
  });

  it("slow-worker: the job sits in processing with no execution until the incident clears", async () => {
    s.incidents.set("slow-worker", true);
    const id = await submitted();
    await waitForStatus(s, id, "processing");
    expect((await call(`${s.url}/api/v1/jobs/${id}/executions/all`)).body.executions).toBeNull();
    s.incidents.set("slow-worker", false);
    await waitForStatus(s, id, "completed");
  });

  it("slow-worker: executions start no earlier than slowWorkerDelayMs after pickup", async () => {
    const own = await createHarness(); // its own outbox: two publishers on one table double-publish
    try {
      const slow = await own.start({ sigBypass: true, slowWorkerDelayMs: 400 });
      slow.incidents.set("slow-worker", true);
      const spec = jobSpec();
      await submit(slow, spec);
      await waitForStatus(slow, String(spec["jobspec_id"]), "completed");
      const { rows } = await slow.pool.query(
        "SELECT EXTRACT(EPOCH FROM (min(e.started_at) - j.created_at))::float8 AS gap FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1 GROUP BY j.created_at",
        [spec["jobspec_id"]],
      );
      expect(rows[0].gap).toBeGreaterThanOrEqual(0.4);
    } finally {
      await own.close();
    }
  });

  it("health-unhealthy: /health answers 503 unhealthy while readiness stays up", async () => {
    s.incidents.set("health-unhealthy", true);
    for (const path of ["/health", "/api/v1/health"]) {
      const r = await call(`${s.url}${path}`);
      expect([r.status, r.body.status]).toEqual([503, "unhealthy"]);
      expect(r.body.services.find((x: any) => x.name === "yagna")).toMatchObject({ status: "unhealthy", error: "circuit breaker open" });
    }
    expect((await call(`${s.url}/health/ready`)).status).toBe(200);
    s.incidents.set("health-unhealthy", false);
    expect((await call(`${s.url}/health`)).body.status).toBe("healthy");
  });

  it("database-down: jobs endpoints 503, readiness 503, publisher and worker stop; all resume after", async () => {
    s.incidents.set("database-down", true);
    for (const path of ["/api/v1/jobs", "/api/v1/jobs/any"]) {
      expect(await call(`${s.url}${path}`)).toMatchObject({ status: 503, body: { error: "persistence unavailable" } });
    }
    expect(await submit(s, jobSpec())).toMatchObject({ status: 503, body: { error: "persistence unavailable" } });
    expect(await call(`${s.url}/health/ready`)).toMatchObject({ status: 503, body: { ready: false } });
    expect((await call(`${s.url}/api/v1/executions`)).body).toEqual({ error: "Database connection not available" });
    expect((await call(`${s.url}/health`)).status).toBe(200); // stub breakers: /health never notices
    // A job written just before the outage must not move while it lasts.
    const spec = jobSpec();
    const id = String(spec["jobspec_id"]);
    await createJob(s.pool, { jobspecId: id, jobspecData: { ...spec, id }, topic: s.queueName, envelope: outboxEnvelope(id, new Date(), "") });
    await s.drain();
    expect((await outboxRows(id))[0]!.published_at).toBeNull();
    s.incidents.set("database-down", false);
    await waitForStatus(s, id, "completed");
  });

  it("database-less at startup: an unreachable database puts the sandbox in database-less mode", async () => {
    const unreachable = { connectionString: "postgres://nobody@127.0.0.1:1/none", wsProxy: testServices().postgres.wsProxy };
    const down = await h.start({ sigBypass: true, sql: unreachable, queueName: `${h.prefix}down:jobs` });
    expect(down.databaseless).toBe(true);
    expect((await call(`${down.url}/api/v1/jobs`)).status).toBe(503);
    expect((await call(`${down.url}/health/ready`))).toMatchObject({ status: 200, body: { ready: true } }); // no DB handle: nothing to ping (handlers_health.go:89-94)
    expect((await call(`${down.url}/api/v1/jobs/cross-region`, { method: "POST", json: {} })).status).toBe(404); // not registered (routes.go:174-177)
    await down.close();
  });
});
