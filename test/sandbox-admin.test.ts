/**
 * Admin routes: bearer auth errors, the shared one-request-per-window-per-IP limit, and the
 * operational views and recovery tools. Each test speaks from its own client IP (gin trusts
 * X-Forwarded-For) so that the 10 s window of one test does not leak into the next.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "./sandbox/index.ts";
import { call, createHarness, jobSpec, submit, waitFor, waitForStatus, type Harness } from "./sandbox/testing.ts";

const TOKEN = "sandbox-admin-token";
let ipCounter = 0;
const freshIp = () => `10.20.0.${++ipCounter}`;

function admin(s: Sandbox, path: string, ip: string, init: { method?: string; auth?: string | null; json?: unknown; body?: string } = {}) {
  const headers: Record<string, string> = { "X-Forwarded-For": ip };
  const auth = init.auth === undefined ? `Bearer ${TOKEN}` : init.auth;
  if (auth !== null) headers["Authorization"] = auth;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return call(`${s.url}${path}`, { method: init.method ?? "GET", headers, ...(init.json !== undefined ? { json: init.json } : {}), ...(init.body !== undefined ? { body: init.body } : {}) });
}

describe("admin routes", () => {
  let h: Harness;
  let other: Harness; // runners sharing one outbox double-publish (no SKIP LOCKED): keep extras apart
  let s: Sandbox;
  let unconfigured: Sandbox;
  beforeAll(async () => {
    [h, other] = await Promise.all([createHarness(), createHarness()]);
    s = await h.start({ sigBypass: true, adminToken: TOKEN });
    unconfigured = await other.start({ sigBypass: true });
  });
  afterAll(() => Promise.all([h?.close(), other?.close()]));

  it("answers 503 admin_auth_not_configured when ADMIN_TOKEN is unset", async () => {
    const r = await admin(unconfigured, "/admin/queue-stats", freshIp());
    expect([r.status, r.body.error]).toEqual([503, "admin_auth_not_configured"]);
  });

  it.each([
    ["no Authorization header", null, 401, "unauthorized"],
    ["a non-Bearer scheme", `Basic ${TOKEN}`, 401, "invalid_auth_format"],
    ["a wrong token", "Bearer nope", 403, "invalid_token"],
  ])("rejects %s", async (_name, auth, status, error) => {
    const ip = freshIp();
    const r = await admin(s, "/admin/queue-stats", ip, { auth });
    expect([r.status, r.body.error]).toEqual([status, error]);
    // Rejected requests do not consume the rate-limit window.
    expect((await admin(s, "/admin/queue-stats", ip)).status).toBe(200);
  });

  it("allows one admin request per 10 s per client IP, shared across every /admin route", async () => {
    const ip = freshIp();
    expect((await admin(s, "/admin/queue-stats", ip)).status).toBe(200);
    const limited = await admin(s, "/admin/outbox-stats", ip);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: "rate_limit_exceeded", retry_after: 10 });
    expect((await admin(s, "/admin/outbox-stats", freshIp())).status).toBe(200);
  });

  it("opens the window again once it has passed (short window for the test)", async () => {
    const quick = await other.start({ sigBypass: true, adminToken: TOKEN, adminRateLimitMs: 300, queueName: `${other.prefix}quick:jobs` });
    const ip = freshIp();
    expect((await admin(quick, "/admin/queue-stats", ip)).status).toBe(200);
    expect((await admin(quick, "/admin/queue-stats", ip)).status).toBe(429);
    await waitFor(async () => (await admin(quick, "/admin/queue-stats", ip)).status === 200, "the admin window to reopen");
  });

  it("reports queue stats with Beacon's keys", async () => {
    s.incidents.set("worker-stopped", true);
    try {
      const spec = jobSpec();
      await submit(s, spec);
      await waitFor(async () => (await h.redis.llen(s.keys.main)) === 1 || undefined, "the job in the main list");
      await h.redis.lpush(s.keys.dead, '{"id":"old"}');
      const r = await admin(s, "/admin/queue-stats", freshIp());
      expect(r.body).toEqual({ queue: `${h.prefix}jobs`, main: 1, retry: 0, dead: 1, processing: 0 });
    } finally {
      s.incidents.set("worker-stopped", false);
      await s.drain();
    }
  });

  it("reports outbox stats, counting a poison row that can never be published", async () => {
    await s.pool.query("INSERT INTO outbox (topic, payload, created_at) VALUES ($1, $2, NOW() - interval '90 seconds')", [
      s.queueName,
      JSON.stringify({ id: "poison", enqueued_at: "2025-09-13T10:00:00Z" }),
    ]);
    const r = await admin(s, "/admin/outbox-stats", freshIp());
    expect(r.body.unpublished_count).toBe(1);
    expect(r.body.oldest_age_seconds).toBeGreaterThanOrEqual(90);
  });

  it.each([
    ["malformed JSON", "{", 400, { error: "invalid_body" }],
    ["no job_id", "{}", 400, { error: "missing_job_id" }],
  ])("rejects republish-job with %s", async (_name, body, status, expected) => {
    const r = await admin(s, "/admin/republish-job", freshIp(), { method: "POST", body });
    expect([r.status, r.body]).toEqual([status, expected]);
  });

  it("republishes one job by jobspec id: a new outbox row, status untouched until the worker runs", async () => {
    s.incidents.set("no-outbox-row", true);
    const spec = jobSpec();
    await submit(s, spec);
    s.incidents.set("no-outbox-row", false);
    const id = String(spec["jobspec_id"]);
    const r = await admin(s, "/admin/republish-job", freshIp(), { method: "POST", body: JSON.stringify({ job_id: id }) });
    expect([r.status, r.body]).toEqual([200, { message: "republished", job_id: id }]);
    await waitForStatus(s, id, "completed");
  });

  it("serves POST /emergency/republish-stuck-jobs without auth or rate limit", async () => {
    const ip = freshIp();
    const first = await call(`${s.url}/emergency/republish-stuck-jobs`, { method: "POST", headers: { "X-Forwarded-For": ip } });
    const second = await call(`${s.url}/emergency/republish-stuck-jobs`, { method: "POST", headers: { "X-Forwarded-For": ip } });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body).toEqual({ message: "no stuck jobs found", republished: 0 });
  });
});
