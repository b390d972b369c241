import type { Pool } from "@neondatabase/serverless";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { executeRepublish, type ExecuteDeps } from "../shared/remediation/execute.ts";
import { RemediationSettings } from "../shared/remediation/settings.ts";
import { remediate, RemediationReport, REMEDIATION_CLAIM } from "../shared/remediation/run.ts";
import { auditSlackMessage, readAudit } from "../shared/remediation/audit.ts";
import { silentLogger } from "../shared/log.ts";
import { closePool, createSqlPool } from "../shared/db.ts";
import { createKeys } from "../shared/store/keys.ts";
import { remediationDeps } from "../netlify/remediation.ts";
import { createRuntime, type Runtime } from "../netlify/runtime.ts";
import { migrate } from "./sandbox/schema.sql.ts";
import { testServices } from "./support/env.ts";
import { isolatedDatabase, randomPrefix, type IsolatedDatabase } from "./support/isolation.ts";
import { closedPort } from "./support/hostile.ts";

type Script = { status: number; body?: unknown } | "network";

/** A stand-in for Beacon's admin endpoint: answers from a script and records every request. */
function fakeBeacon(script: Script[], clock: { t: number }) {
  const requests: { url: string; auth: string | null; body: unknown; at: number }[] = [];
  const fakeFetch = (async (url: string, init: RequestInit) => {
    requests.push({ url, auth: new Headers(init.headers).get("authorization"), body: JSON.parse(String(init.body)), at: clock.t });
    clock.t += 5;
    const next = script.shift() ?? { status: 200, body: { message: "republished" } };
    if (next === "network") throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
    return new Response(JSON.stringify(next.body ?? {}), { status: next.status, headers: { "content-type": "application/json" } });
  }) as typeof globalThis.fetch;
  return { fetch: fakeFetch, requests };
}

function executeDeps(script: Script[], over: Partial<ExecuteDeps> = {}) {
  const clock = { t: 1_000_000 };
  const sleeps: number[] = [];
  const beacon = fakeBeacon(script, clock);
  const deps: ExecuteDeps = {
    fetch: beacon.fetch, now: () => new Date(clock.t), log: silentLogger,
    sleep: async (ms) => { sleeps.push(ms); clock.t += ms; },
    url: "http://beacon.test/admin/republish-job", adminToken: "beacon-admin-token",
    settings: RemediationSettings.parse({}),
    recheck: async (id) => ({ id, status: "created", age_s: 900, unpublished: 0 }),
    ...over,
  };
  return { deps, sleeps, requests: beacon.requests };
}

describe("republishing, paced for Beacon's one-admin-request-per-10-s limit", () => {
  it("spaces requests by adminIntervalMs and sends one job per request with the admin token", async () => {
    const { deps, sleeps, requests } = executeDeps([]);
    const out = await executeRepublish(["a", "b", "c"], deps);
    expect(out.map((o) => [o.jobId, o.outcome, o.attempts])).toEqual([["a", "republished", 1], ["b", "republished", 1], ["c", "republished", 1]]);
    expect(requests.map((r) => r.body)).toEqual([{ job_id: "a" }, { job_id: "b" }, { job_id: "c" }]);
    expect(requests.every((r) => r.auth === "Bearer beacon-admin-token" && r.url === "http://beacon.test/admin/republish-job")).toBe(true);
    expect(sleeps).toEqual([10_500, 10_500]);
    for (let i = 1; i < requests.length; i++) expect(requests[i]!.at - requests[i - 1]!.at).toBeGreaterThanOrEqual(10_500);
  });

  it("skips a job whose message reached Beacon's queue between planning and acting", async () => {
    const { deps, requests } = executeDeps([], {
      recheck: async (id) => ({ id, status: "created", age_s: 900, unpublished: 0, ...(id === "b" ? { queued: "its message is waiting in jobs (0 ahead of it)" } : {}) }),
    });
    const out = await executeRepublish(["a", "b"], deps);
    expect(out.map((o) => [o.jobId, o.outcome])).toEqual([["a", "republished"], ["b", "skipped"]]);
    expect(out[1]!.detail).toBe("its message is waiting in jobs (0 ahead of it): not republished");
    expect(requests.map((r) => r.body)).toEqual([{ job_id: "a" }]);
  });

  it("waits Beacon's retry_after on 429, then retries the same job", async () => {
    const { deps, sleeps, requests } = executeDeps([{ status: 429, body: { error: "rate_limit_exceeded", retry_after: 10 } }]);
    const out = await executeRepublish(["a"], deps);
    expect(out).toEqual([expect.objectContaining({ jobId: "a", outcome: "republished", attempts: 2 })]);
    expect(sleeps).toEqual([10_000]);
    expect(requests).toHaveLength(2);
  });

  it.each([
    ["gives-up-after-attemptsPerJob-429s", [429, 429, 429].map((status) => ({ status, body: { retry_after: 1 } })), "rate-limited", 3],
    ["gives-up-when-retry_after-exceeds-the-cap", [{ status: 429, body: { retry_after: 3600 } }], "rate-limited", 1],
    ["reports-beacon's-error-code", [{ status: 500, body: { error: "republish_failed" } }], "failed", 1],
    ["reports-a-network-failure", ["network" as const], "failed", 1],
  ] as [string, Script[], string, number][])("%s", async (_rule, script, outcome, attempts) => {
    const { deps } = executeDeps(script);
    const [first, second] = await executeRepublish(["a", "b"], deps);
    expect(first).toMatchObject({ outcome, attempts });
    expect(second).toMatchObject({ outcome: "republished" });
  });

  it("stops when Beacon refuses the admin token: the rest are not attempted", async () => {
    const { deps, requests } = executeDeps([{ status: 403, body: { error: "invalid_token" } }]);
    const out = await executeRepublish(["a", "b"], deps);
    expect(out.map((o) => o.outcome)).toEqual(["failed", "not-attempted"]);
    expect(out[1]!.detail).toContain("BEACON_ADMIN_TOKEN");
    expect(requests).toHaveLength(1);
  });

  it.each([
    ["completed-meanwhile", { status: "completed", unpublished: 0 }, /is completed now/],
    ["row-appeared-meanwhile", { status: "created", unpublished: 1 }, /unpublished outbox row appeared/],
    ["gone", undefined, /no longer exists/],
  ])("re-checks each job right before its request: %s", async (_rule, now, detail) => {
    const { deps, requests } = executeDeps([], { recheck: async (id) => (now ? { id, age_s: 900, ...now } : undefined) });
    const [out] = await executeRepublish(["a"], deps);
    expect(out).toMatchObject({ outcome: "skipped", attempts: 0, detail: expect.stringMatching(detail) });
    expect(requests).toHaveLength(0);
  });
});

describe("the audit message", () => {
  it("is one mrkdwn section, escaped, listing each job's outcome", () => {
    const message = auditSlackMessage({
      version: 1, at: "2026-05-01T12:00:00.000Z", action: "republish-job", caller: "cli:ops", requested: [], blocked: null, remaining: ["c"],
      results: [{ jobId: "a<b>", outcome: "republished", detail: "Beacon wrote a new outbox row", attempts: 1 }],
    });
    expect(message.text).toBe("Remediation: 1 of 1 stuck job(s) republished by cli:ops");
    expect(message.blocks[0]).toEqual({ type: "section", text: { type: "mrkdwn", text:
      "*Remediation: 1 of 1 stuck job(s) republished by cli:ops*\n• a&lt;b&gt;: republished, Beacon wrote a new outbox row\n1 more job(s) left for the next run" } });
  });
});

describe("what republishing may touch, judged on rows injected with SQL", () => {
  const services = testServices();
  let db: IsolatedDatabase;
  let pool: Pool;
  let rt: Runtime;
  const beacon = { t: 0 };
  const calls = fakeBeacon([], beacon);
  const prefix = randomPrefix();
  const env = (extra: Record<string, string> = {}) => ({
    BEACON_API_URL: "http://beacon.test", BEACON_DATABASE_URL: db.connectionString, NEON_WS_PROXY: services.postgres.wsProxy,
    BEACON_REDIS_REST_URL: services.redis.restUrl, BEACON_REDIS_REST_TOKEN: services.redis.restToken, SENTINEL_KEY_PREFIX: prefix,
    BEACON_ADMIN_TOKEN: "beacon-admin-token", SENTINEL_SETTINGS: JSON.stringify({ probes: { outbox: { createdMaxSeconds: 60 } }, remediation: { adminIntervalMs: 1 } }),
    ...extra,
  });
  const ask = async (request: { execute?: boolean; jobIds?: string[] } = {}, r: Runtime = rt) =>
    RemediationReport.parse(await remediate(remediationDeps(r, { sleep: async () => {} }), { execute: false, jobIds: [], caller: "test:rules", ...request }));

  beforeAll(async () => {
    db = await isolatedDatabase(services);
    pool = createSqlPool({ connectionString: db.connectionString, wsProxy: services.postgres.wsProxy, max: 2 });
    await migrate(pool);
    rt = createRuntime(env(), { redisRetries: 0, fetch: calls.fetch, log: silentLogger });
  });
  afterEach(async () => {
    await pool.query("TRUNCATE outbox, executions, jobs RESTART IDENTITY CASCADE");
    calls.requests.length = 0;
  });
  afterAll(async () => {
    await rt?.close();
    await closePool(pool);
    const keys = await rt.storeRedis!.keys(`${prefix}*`);
    if (keys.length) await rt.storeRedis!.del(...keys);
    await db.drop();
  });

  const ago = (s: number) => `(now() AT TIME ZONE 'UTC') - make_interval(secs => ${s})`;
  const job = (id: string, status: string, createdAgo: number) =>
    pool.query(`INSERT INTO jobs (jobspec_id, jobspec_data, status, created_at, updated_at) VALUES ($1, '{}', $2, ${ago(createdAgo)}, ${ago(createdAgo)})`, [id, status]);
  const outbox = async (payload: unknown, ageSeconds: number, published: boolean) =>
    (await pool.query<{ id: string }>(`INSERT INTO outbox (topic, payload, created_at, published_at) VALUES ('jobs', $1::jsonb, ${ago(ageSeconds)}, ${published ? ago(0) : "NULL"}) RETURNING id`,
      [JSON.stringify(payload)])).rows[0]!.id;
  const envelope = (id: string) => ({ id, enqueued_at: "2026-05-01T10:00:00Z", attempt: 0, request_id: "" });

  it.each([
    ["created-with-no-outbox-row", async () => job("j1", "created", 600), "republish", "no outbox row", undefined],
    ["created-with-published-row-never-picked-up", async () => { await job("j1", "created", 600); await outbox(envelope("j1"), 590, true); }, "republish", "published but never picked up", undefined],
    ["created-with-an-unpublished-row", async () => { await job("j1", "created", 600); await outbox(envelope("j1"), 5, false); }, "refuse", "outbox row unpublished", /would queue the job twice/],
  ] as const)("%s: %s", async (_rule, inject, action, cause, reason) => {
    await inject();
    const { plan } = await ask();
    expect(plan.blocked).toBeNull();
    expect(plan.items).toEqual([expect.objectContaining({ jobId: "j1", status: "created", cause, action })]);
    if (reason) expect(plan.items[0]!.reason).toMatch(reason);
  });

  it.each([
    ["named-job-completed", "completed", 600, /the job is completed, not created/],
    ["named-job-unknown", null, 0, /no job has this id/],
    ["named-job-too-young-to-be-stuck", "created", 10, /in created for 10 s, under the 60 s stuck threshold/],
  ] as const)("refuses a %s", async (_rule, status, age, reason) => {
    if (status) await job("j1", status, age);
    const { plan } = await ask({ jobIds: ["j1"] });
    expect(plan.items).toEqual([expect.objectContaining({ jobId: "j1", action: "refuse", reason: expect.stringMatching(reason) })]);
  });

  it("publisher-down: an old, publishable row still unpublished blocks every republish, and executing calls nothing", async () => {
    await job("j1", "created", 600);
    await job("other", "created", 700);
    const rowId = await outbox(envelope("other"), 600, false);
    const dry = await ask();
    expect(dry.plan.blocked).toMatchObject({ code: "publisher-down", message: expect.stringMatching(/not publishing: oldest unpublished outbox row is 6\d\d s old/) });
    expect(dry.plan.blocked!.evidence[0]).toMatch(new RegExp(`^outbox row ${rowId}: unpublished`));
    const executed = await ask({ execute: true });
    expect(executed.results).toEqual([]);
    expect(calls.requests).toHaveLength(0);
    const [audit] = await readAudit(rt.storeRedis!, createKeys(prefix), 1);
    expect(audit).toMatchObject({ caller: "test:rules", blocked: { code: "publisher-down" }, results: [] });
  });

  it("a poison row the publisher skips is not a dead publisher", async () => {
    await job("j1", "created", 600);
    await outbox({ id: "j1", enqueued_at: "2026-05-01T10:00:00Z" }, 600, false); // missing `attempt`: unpublishable forever
    const { plan } = await ask();
    expect(plan.blocked).toBeNull();
  });

  it("refuses when Beacon's database cannot be read, or is not configured", async () => {
    const port = await closedPort();
    const down = createRuntime(env({ BEACON_DATABASE_URL: `postgres://nobody:pw@127.0.0.1:${port}/none` }), { redisRetries: 0, log: silentLogger });
    const none = createRuntime(env({ BEACON_DATABASE_URL: "" }), { redisRetries: 0, log: silentLogger });
    try {
      expect((await ask({}, down)).plan.blocked).toMatchObject({ code: "database-unreachable", message: expect.stringContaining("could not be read") });
      expect((await ask({}, none)).plan.blocked).toMatchObject({ code: "database-not-configured" });
    } finally {
      await down.close();
      await none.close();
    }
  });

  it("refuses to execute without BEACON_ADMIN_TOKEN, and while another remediation holds the lock", async () => {
    await job("j1", "created", 600);
    const tokenless = createRuntime(env({ BEACON_ADMIN_TOKEN: "" }), { redisRetries: 0, log: silentLogger });
    try {
      expect((await ask({ execute: true }, tokenless)).plan.blocked).toMatchObject({ code: "admin-token-missing" });
    } finally {
      await tokenless.close();
    }
    await rt.storeRedis!.set(createKeys(prefix).claim(REMEDIATION_CLAIM), "someone-else", { px: 60_000 });
    try {
      expect((await ask({ execute: true })).plan.blocked).toMatchObject({ code: "busy" });
      expect(calls.requests).toHaveLength(0);
    } finally {
      await rt.storeRedis!.del(createKeys(prefix).claim(REMEDIATION_CLAIM));
    }
  });

  it("executes the eligible jobs only, up to the limit, and audits each outcome", async () => {
    await job("j1", "created", 600);
    await job("j2", "created", 610);
    await job("j3", "created", 620);
    await outbox(envelope("j2"), 5, false);
    const report = RemediationReport.parse(await remediate(remediationDeps(rt, { sleep: async () => {} }), { execute: true, jobIds: [], caller: "test:limit", limit: 1 }));
    expect(report.results.map((r) => [r.jobId, r.outcome])).toEqual([["j3", "republished"]]);
    expect(report.remaining).toEqual(["j1"]);
    expect(calls.requests.map((r) => r.body)).toEqual([{ job_id: "j3" }]);
    const [audit] = await readAudit(rt.storeRedis!, createKeys(prefix), 1);
    expect(audit).toMatchObject({ caller: "test:limit", remaining: ["j1"], results: [{ jobId: "j3", outcome: "republished" }] });
  });
});
