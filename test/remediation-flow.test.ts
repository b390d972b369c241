import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { httpFunction } from "../netlify/http/handler.ts";
import { remediateRoute } from "../netlify/http/remediate.ts";
import { fingerprint } from "../netlify/http/auth.ts";
import { readAudit } from "../shared/remediation/audit.ts";
import { RemediationReport } from "../shared/remediation/run.ts";
import { createKeys } from "../shared/store/keys.ts";
import { outboxProbe } from "../shared/probes/outbox/index.ts";
import { runProbe } from "../shared/runner.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { createHarness, jobSpec, submit, waitForStatus, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import type { IncidentName } from "./sandbox/incidents.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { startSlackReceiver, type SlackReceiver } from "./support/slack-receiver.ts";

/**
 * The whole remediation flow against the Beacon sandbox: an incident leaves jobs stuck in `created`,
 * the dry run lists them with the outbox probe's cause, executing republishes them through Beacon's
 * own /admin/republish-job (paced), the jobs complete, and the audit is in the store and in Slack.
 */
const SENTINEL_ADMIN = "sentinel-admin-token-flow-0001";
const BEACON_ADMIN = "beacon-admin-token-flow-0001";

let h: Harness;
let sandbox: Sandbox;
let slack: SlackReceiver;
let env: Record<string, string>;
let rt: Runtime;
const sleeps: number[] = [];
const sleep = async (ms: number) => {
  sleeps.push(ms);
  await new Promise((resolve) => setTimeout(resolve, ms));
};

beforeAll(async () => {
  h = await createHarness();
  // Beacon's admin limit, shortened: one request per 300 ms per IP, shared by every /admin route.
  sandbox = await h.start({ sigBypass: true, adminToken: BEACON_ADMIN, adminRateLimitMs: 300 });
  slack = await startSlackReceiver();
  env = sentinelEnv(h, sandbox, { probes: { outbox: { createdMaxSeconds: 60 } }, remediation: { adminIntervalMs: 300 } }, {
    SENTINEL_ADMIN_TOKEN: SENTINEL_ADMIN, BEACON_ADMIN_TOKEN: BEACON_ADMIN, SLACK_WEBHOOK_URL: slack.url,
  });
  rt = sentinelRuntime(env);
});
afterEach(() => sandbox.incidents.reset());
afterAll(async () => {
  await rt?.close();
  await slack?.close();
  await h?.close();
});

/** Jobs submitted during `incident`, moved ten minutes into the past (the stuck threshold is one). */
async function stuckJobs(incident: IncidentName, count: number): Promise<string[]> {
  sandbox.incidents.set(incident, true);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const spec = jobSpec();
    expect((await submit(sandbox, spec)).status).toBe(202);
    ids.push(String(spec["jobspec_id"]));
  }
  await sandbox.drain();
  await sandbox.pool.query("UPDATE jobs SET created_at = created_at - interval '600 seconds', updated_at = updated_at - interval '600 seconds' WHERE jobspec_id = ANY($1)", [ids]);
  sandbox.incidents.set(incident, false);
  return ids;
}

const api = (body: unknown) => httpFunction(remediateRoute({ sleep }), () => rt)(new Request("http://sentinel.test/api/remediate/republish", {
  method: "POST", body: JSON.stringify(body), headers: { authorization: `Bearer ${SENTINEL_ADMIN}`, "content-type": "application/json" },
}), { ip: "10.1.1.1" });

describe("no-outbox-row, through POST /api/remediate/republish", () => {
  it("lists the stuck jobs with their cause, republishes them paced, they complete, and the audit is kept", async () => {
    const ids = await stuckJobs("no-outbox-row", 2);
    const dryRun = await api({});
    expect(dryRun.status).toBe(200);
    const plan = RemediationReport.parse(await dryRun.json());
    expect(plan).toMatchObject({ dryRun: true, audit: null, results: [] });
    expect(plan.plan.items.map((i) => [i.jobId, i.cause, i.action]).sort()).toEqual(ids.map((id) => [id, "no outbox row", "republish"]).sort());
    expect(plan.summary).toMatch(/^dry run: 2 job\(s\) considered: 2 can be republished, 0 refused/);

    sleeps.length = 0;
    const executed = await api({ execute: true });
    expect(executed.status).toBe(200);
    const report = RemediationReport.parse(await executed.json());
    expect(report.results.map((r) => r.outcome)).toEqual(["republished", "republished"]);
    expect(report.audit).toEqual({ recorded: true, slack: "sent" });
    // The second request waited for the pacing interval instead of tripping Beacon's limit.
    expect(sleeps.length).toBe(1);
    expect(sleeps[0]).toBeGreaterThan(0);
    expect(sleeps[0]).toBeLessThanOrEqual(300);
    for (const id of ids) await waitForStatus(sandbox, id, "completed");

    const [audit] = await readAudit(rt.storeRedis!, createKeys(env.SENTINEL_KEY_PREFIX!), 1);
    expect(audit).toMatchObject({ action: "republish-job", caller: `api:${fingerprint(SENTINEL_ADMIN)}`, blocked: null });
    expect(audit!.results.map((r) => r.jobId).sort()).toEqual([...ids].sort());
    const message = slack.received.at(-1)!.body;
    expect(message.text).toBe(`Remediation: 2 of 2 stuck job(s) republished by api:${fingerprint(SENTINEL_ADMIN)}`);
    for (const id of ids) expect(JSON.stringify(message.blocks)).toContain(id);

    const after = await runProbe(outboxProbe, { deps: rt.deps, settings: rt.config.settings, targets: rt.targets, redact: rt.redact });
    expect(after.checks.find((c) => c.name === "jobs-stuck-created")?.status).toBe("pass");
  });

  it("two executions at once: one republishes each stuck job once, the other is refused as busy (fault matrix)", async () => {
    const ids = await stuckJobs("no-outbox-row", 3);
    const [a, b] = await Promise.all([api({ execute: true }), api({ execute: true })]);
    const reports = await Promise.all([a, b].map(async (r) => ({ status: r.status, body: (await r.json()) as { results?: { jobId: string; outcome: string }[]; report?: { results: { jobId: string; outcome: string }[] } } })));
    const republished = reports.flatMap((r) => (r.body.results ?? r.body.report?.results ?? []).filter((x) => x.outcome === "republished").map((x) => x.jobId));
    expect(republished.sort()).toEqual([...ids].sort());
    // The one that lost the race is refused, saying why, and republished nothing.
    expect(reports.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(reports.find((r) => r.status === 409)?.body).toMatchObject({ error: "refused", message: expect.stringContaining("another remediation is running now"), report: { results: [] } });
    for (const id of ids) await waitForStatus(sandbox, id, "completed");
  });

  it("refuses a named job that is not in created, and one that is not stuck yet", async () => {
    const done = jobSpec();
    await submit(sandbox, done);
    await waitForStatus(sandbox, String(done["jobspec_id"]), "completed");
    sandbox.incidents.set("no-outbox-row", true);
    const fresh = jobSpec();
    await submit(sandbox, fresh);
    const response = await api({ jobIds: [done["jobspec_id"], fresh["jobspec_id"]] });
    const { plan } = RemediationReport.parse(await response.json());
    expect(plan.items.map((i) => [i.action, i.reason?.replace(/\d+ s/, "N s")])).toEqual([
      ["refuse", "the job is completed, not created: republishing only helps jobs stuck in created"],
      ["refuse", "the job has been in created for N s, under the 60 s stuck threshold: it may still be picked up"],
    ]);
    await sandbox.pool.query("DELETE FROM jobs WHERE jobspec_id = $1", [fresh["jobspec_id"]]);
  });

  it("409 when executing while the publisher is down, saying why", async () => {
    await stuckJobs("no-outbox-row", 1);
    sandbox.incidents.set("database-down", true); // database-less mode: the publisher stops
    const blocked = jobSpec();
    await sandbox.pool.query("INSERT INTO jobs (jobspec_id, jobspec_data, status, created_at) VALUES ($1, '{}', 'created', (now() AT TIME ZONE 'UTC') - interval '900 seconds')", [blocked["jobspec_id"]]);
    await sandbox.pool.query(`INSERT INTO outbox (topic, payload, created_at) VALUES ($1, $2::jsonb, (now() AT TIME ZONE 'UTC') - interval '900 seconds')`,
      [sandbox.queueName, JSON.stringify({ id: blocked["jobspec_id"], enqueued_at: "2026-05-01T10:00:00Z", attempt: 0 })]);
    try {
      const response = await api({ execute: true });
      expect(response.status).toBe(409);
      const body = await response.json();
      expect(body).toMatchObject({ error: "refused", report: { plan: { blocked: { code: "publisher-down" } }, results: [] } });
      expect(body.message).toMatch(/publisher is not publishing/);
    } finally {
      sandbox.incidents.set("database-down", false);
      await sandbox.pool.query("DELETE FROM outbox WHERE payload->>'id' = $1", [blocked["jobspec_id"]]);
      await sandbox.pool.query("DELETE FROM jobs WHERE status = 'created'");
    }
  });
});

describe("worker-stopped: jobs whose messages are still in Beacon's queue are never republished", () => {
  /** A runtime that also knows where the sandbox keeps the JobRunner's per-job lock. */
  const queueAware = () => sentinelRuntime(sentinelEnv(h, sandbox, {
    probes: { outbox: { createdMaxSeconds: 60 } }, remediation: { adminIntervalMs: 300 },
    beacon: { queue: { name: sandbox.queueName, jobLockPrefix: `${h.prefix}job:processing:` } },
  }, { SENTINEL_ADMIN_TOKEN: SENTINEL_ADMIN, BEACON_ADMIN_TOKEN: BEACON_ADMIN }));
  const ask = (r: Runtime, body: unknown) => httpFunction(remediateRoute({ sleep }), () => r)(new Request("http://sentinel.test/api/remediate/republish", {
    method: "POST", body: JSON.stringify(body), headers: { authorization: `Bearer ${SENTINEL_ADMIN}`, "content-type": "application/json" },
  }), { ip: "10.1.1.2" });
  const outboxRows = async (ids: string[]) =>
    Number((await sandbox.pool.query("SELECT count(*) AS n FROM outbox WHERE payload->>'id' = ANY($1)", [ids])).rows[0].n);

  it("20 queued jobs, 10 minutes in created: none republished, each refused with where its message waits", async () => {
    const r = queueAware();
    sandbox.incidents.set("worker-stopped", true);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const spec = jobSpec();
        expect((await submit(sandbox, spec)).status).toBe(202);
        ids.push(String(spec["jobspec_id"]));
      }
      await sandbox.drain(); // the publisher pushes all 20; nothing consumes them
      await sandbox.pool.query("UPDATE jobs SET created_at = created_at - interval '600 seconds', updated_at = updated_at - interval '600 seconds' WHERE jobspec_id = ANY($1)", [ids]);
      const waiting = await sandbox.redis.lrange(sandbox.queueName, 0, -1);
      expect(ids.filter((id) => waiting.some((m) => JSON.parse(m).id === id))).toHaveLength(20);
      const rowsBefore = await outboxRows(ids);

      const dry = RemediationReport.parse(await (await ask(r, {})).json());
      const mine = dry.plan.items.filter((i) => ids.includes(i.jobId));
      expect(mine).toHaveLength(20);
      for (const item of mine) {
        expect(item).toMatchObject({ cause: "published but never picked up", action: "refuse" });
        expect(item.reason).toMatch(new RegExp(`^its message is waiting in ${sandbox.queueName} \\(\\d+ ahead of it\\): republishing would run the job twice$`));
      }

      const executed = await ask(r, { execute: true });
      const report = RemediationReport.parse(await executed.json());
      expect(report.results.filter((x) => ids.includes(x.jobId))).toEqual([]);
      expect(await outboxRows(ids)).toBe(rowsBefore); // Beacon wrote no second row for any of them
      expect(await sandbox.redis.llen(sandbox.queueName)).toBe(waiting.length);
    } finally {
      sandbox.incidents.set("worker-stopped", false);
      await sandbox.drain();
      await r.close();
    }
  }, 60_000);

  it("a message taken for processing, a retry waiting, and the JobRunner's lock each hold their job; a lost message does not", async () => {
    const r = queueAware();
    const ids: string[] = [];
    sandbox.incidents.set("worker-stopped", true);
    try {
      for (let i = 0; i < 4; i++) {
        const spec = jobSpec();
        expect((await submit(sandbox, spec)).status).toBe(202);
        ids.push(String(spec["jobspec_id"]));
      }
      await sandbox.drain();
      await sandbox.pool.query("UPDATE jobs SET created_at = created_at - interval '600 seconds', updated_at = updated_at - interval '600 seconds' WHERE jobspec_id = ANY($1)", [ids]);
      const [processing, retrying, locked, lost] = ids as [string, string, string, string];
      // Empty the list, then put each job where Beacon's worker would have it.
      await sandbox.redis.del(sandbox.queueName);
      await sandbox.redis.set(`${sandbox.queueName}:processing:${processing}:1764500000000000000`, "{}", "EX", 600);
      const message = { id: `${retrying}:1764500000000000001`, jobspec_id: retrying, action: "process", payload: null, attempts: 1, max_retries: 3, enqueued_at: "2026-11-30T10:00:00Z" };
      await sandbox.redis.zadd(`${sandbox.queueName}:retry`, Math.floor(Date.now() / 1000) + 60, JSON.stringify(message));
      await sandbox.redis.set(`${h.prefix}job:processing:${locked}`, "1", "EX", 900);

      const dry = RemediationReport.parse(await (await ask(r, { jobIds: ids })).json());
      const reasonOf = (id: string) => dry.plan.items.find((i) => i.jobId === id)!;
      expect(reasonOf(processing)).toMatchObject({ action: "refuse", reason: expect.stringMatching(/^a worker is processing its message/) });
      expect(reasonOf(retrying)).toMatchObject({ action: "refuse", reason: expect.stringMatching(/^its message is waiting for a retry in .*:retry \(due /) });
      expect(reasonOf(locked)).toMatchObject({ action: "refuse", reason: expect.stringMatching(/^the worker holds its lock .*job:processing:/) });
      expect(reasonOf(lost)).toMatchObject({ action: "republish", cause: "published but never picked up" });
    } finally {
      await sandbox.redis.del(`${sandbox.queueName}:retry`, `${h.prefix}job:processing:${ids[2]}`, `${sandbox.queueName}:processing:${ids[0]}:1764500000000000000`);
      sandbox.incidents.set("worker-stopped", false);
      await sandbox.pool.query("DELETE FROM jobs WHERE status = 'created'");
      await r.close();
    }
  }, 60_000);

  it("refuses everything, saying why, when Beacon's queue is not configured", async () => {
    const r = sentinelRuntime({ ...env, BEACON_REDIS_REST_URL: "", BEACON_REDIS_REST_TOKEN: "", SENTINEL_REDIS_REST_URL: env.BEACON_REDIS_REST_URL!, SENTINEL_REDIS_REST_TOKEN: env.BEACON_REDIS_REST_TOKEN! });
    try {
      await stuckJobs("no-outbox-row", 1);
      const dry = RemediationReport.parse(await (await ask(r, {})).json());
      expect(dry.plan.blocked).toMatchObject({ code: "queue-not-configured", message: expect.stringContaining("BEACON_REDIS_REST_URL") });
    } finally {
      await sandbox.pool.query("DELETE FROM jobs WHERE status = 'created'");
      await r.close();
    }
  });
});

describe("payload-mismatch, through `npx beacon-sentinel republish-stuck`", () => {
  const exec = promisify(execFile);
  const sentinel = async (args: string[]) => {
    try {
      const { stdout, stderr } = await exec(process.execPath, ["netlify/bin/sentinel.mjs", ...args], { env: { ...process.env, ...env, USER: "flow-tester" }, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it("dry run names the cause; --execute republishes; the job completes; the audit names the CLI user", async () => {
    const [id] = await stuckJobs("payload-mismatch", 1);
    const dry = await sentinel(["republish-stuck"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`republish ${id}  6\\d\\d s in created, outbox row \\d+ published \\d+ s ago, never picked up`));
    expect(dry.stdout).toContain("run again with --execute");

    const run = await sentinel(["republish-stuck", "--execute", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const report = RemediationReport.parse(JSON.parse(run.stdout));
    expect(report.results).toEqual([expect.objectContaining({ jobId: id, outcome: "republished" })]);
    await waitForStatus(sandbox, id!, "completed");
    const [audit] = await readAudit(rt.storeRedis!, createKeys(env.SENTINEL_KEY_PREFIX!), 1);
    expect(audit).toMatchObject({ caller: "cli:flow-tester", results: [{ jobId: id, outcome: "republished" }] });
  }, 60_000);

  it("exits 1 and says why when executing is refused", async () => {
    const result = await sentinel(["republish-stuck", "--execute", "--job", "no-such-job"]);
    expect(result.code).toBe(0); // nothing eligible, nothing failed
    expect(result.stdout).toContain("refuse    no-such-job  no job has this id");
    const refused = await (async () => {
      const saved = env.BEACON_ADMIN_TOKEN;
      env.BEACON_ADMIN_TOKEN = "";
      try {
        return await sentinel(["republish-stuck", "--execute"]);
      } finally {
        env.BEACON_ADMIN_TOKEN = saved!;
      }
    })();
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("REFUSED (admin-token-missing)");
  }, 60_000);
});

describe("pacing against Beacon's real limiter", () => {
  it("a 429 waits Beacon's retry_after, then the job is republished", async () => {
    const h2 = await createHarness();
    try {
      const slow = await h2.start({ sigBypass: true, adminToken: BEACON_ADMIN, adminRateLimitMs: 1_000 });
      const env2 = sentinelEnv(h2, slow, { probes: { outbox: { createdMaxSeconds: 60 } }, remediation: { adminIntervalMs: 10 } }, { BEACON_ADMIN_TOKEN: BEACON_ADMIN });
      const rt2 = sentinelRuntime(env2);
      try {
        await slow.pool.query("INSERT INTO jobs (jobspec_id, jobspec_data, status, created_at) VALUES ('p1', '{}', 'created', (now() AT TIME ZONE 'UTC') - interval '600 seconds'), ('p2', '{}', 'created', (now() AT TIME ZONE 'UTC') - interval '590 seconds')");
        const { remediationDeps } = await import("../netlify/remediation.ts");
        const { remediate } = await import("../shared/remediation/run.ts");
        sleeps.length = 0;
        const report = await remediate(remediationDeps(rt2, { sleep }), { execute: true, jobIds: [], caller: "test:pacing" });
        expect(report.results.map((r) => [r.jobId, r.outcome, r.attempts])).toEqual([["p1", "republished", 1], ["p2", "republished", 2]]);
        // Beacon said retry_after: 1; the wait runs to that instant, so it is a second less the time since the 429.
        const waited = sleeps.filter((ms) => ms > 100);
        expect(waited).toHaveLength(1);
        expect(waited[0]).toBeGreaterThan(500);
        expect(waited[0]).toBeLessThanOrEqual(1_000);
      } finally {
        await rt2.close();
      }
    } finally {
      await h2.close();
    }
  });
});
