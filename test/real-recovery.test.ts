import type { Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BeaconSettings } from "../shared/beacon/settings.ts";
import { closePool, createSqlPool } from "../shared/db.ts";
import { silentLogger } from "../shared/log.ts";
import type { Check, EventCounts } from "../shared/result.ts";
import { outboxProbe } from "../shared/probes/outbox/index.ts";
import { OutboxSettings } from "../shared/probes/outbox/settings.ts";
import { createSqlClient, type SqlClient } from "../shared/sql.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { call, createHarness, jobSpec, submit, waitFor, waitForStatus, type Harness } from "./sandbox/testing.ts";
import { testServices } from "./support/env.ts";

/**
 * The runner's own recovery paths, as its code runs them (contract sheet §11): the timeout worker that
 * marks jobs `processing` over 15 minutes `failed` although their run may still complete them, startup
 * recovery that puts jobs `processing` over 10 minutes back to `created` with no outbox row, and the
 * portal path's jobs that are `queued` for their whole run. Each is driven in the sandbox and judged.
 */
describe("the runner's timers and recovery paths", () => {
  let h: Harness;
  let s: Sandbox;
  let probePool: Pool;
  let sql: SqlClient;
  let state: unknown;

  async function outbox(settings: Partial<OutboxSettings> = {}): Promise<{ checks: Record<string, Check>; events: Record<string, EventCounts> }> {
    const out = await outboxProbe.run({
      deps: { now: () => new Date(), fetch, log: silentLogger, sql },
      settings: OutboxSettings.parse({ sliSettleSeconds: 0, sliInitialWindowSeconds: 3600, ...settings }), beacon: BeaconSettings.parse({}),
      targets: { healthUrls: [] }, signal: new AbortController().signal, previousState: state,
    });
    state = out.state;
    return { checks: Object.fromEntries(out.checks.map((c) => [c.name, c])), events: out.events ?? {} };
  }
  const statusOf = async (id: string) => (await s.pool.query("SELECT status FROM jobs WHERE jobspec_id = $1", [id])).rows[0]?.status as string | undefined;

  beforeAll(async () => {
    h = await createHarness();
    s = await h.start({ sigBypass: true, hybridPath: true });
    probePool = createSqlPool({ connectionString: h.db.connectionString, wsProxy: testServices().postgres.wsProxy, max: 2 });
    sql = createSqlClient(probePool, { statementTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    if (probePool) await closePool(probePool);
    await h?.close();
  });
  beforeEach(async () => {
    s.incidents.reset();
    await outbox(); // everything so far counted: each test sees only its own jobs
  });

  it("the timeout worker fails a job processing over 15 min that then completes: counted once in job-success, the completion named", async () => {
    s.incidents.set("slow-worker", true); // the run is held in processing
    const spec = jobSpec();
    const id = String(spec["jobspec_id"]);
    await submit(s, spec);
    await waitForStatus(s, id, "processing");
    await s.pool.query("UPDATE jobs SET updated_at = updated_at - interval '16 minutes' WHERE jobspec_id = $1", [id]);
    expect(await s.runTimeoutWorker()).toEqual([id]);
    const failed = await outbox();
    expect(failed.events["jobs"]).toEqual({ good: 0, total: 1 });
    expect(failed.checks["jobs-finished"]?.evidence).toContain(`job ${id}: failed`);
    s.incidents.set("slow-worker", false); // the run goes on and completes the job Beacon already failed
    await waitFor(async () => (await statusOf(id)) === "completed", `job ${id} completed after the timeout worker failed it`);
    const completed = await outbox();
    expect(completed.events["jobs"]).toEqual({ good: 0, total: 0 });
    expect(completed.checks["jobs-finished"]).toMatchObject({ message: expect.stringContaining("1 already counted as failed, not counted again") });
    expect(completed.checks["jobs-finished"]?.evidence).toEqual([expect.stringMatching(new RegExp(`^job ${id}: completed after it was counted failed \\(Beacon's timeout worker`))]);
  });

  it("startup recovery puts a job processing over 10 min back in created with no outbox row: named 'startup recovery reset', then republished", async () => {
    s.incidents.set("slow-worker", true);
    const spec = jobSpec();
    const id = String(spec["jobspec_id"]);
    await submit(s, spec);
    await waitForStatus(s, id, "processing");
    // Twelve minutes ago it was submitted (and its outbox row written), eleven ago the worker took it.
    await s.pool.query("UPDATE jobs SET created_at = created_at - interval '12 minutes', updated_at = updated_at - interval '11 minutes' WHERE jobspec_id = $1", [id]);
    await s.pool.query("UPDATE outbox SET created_at = created_at - interval '12 minutes' WHERE payload->>'id' = $1", [id]);
    expect(await s.restartRunner()).toEqual([id]);
    s.incidents.set("slow-worker", false);
    expect(await statusOf(id)).toBe("created");
    const stuck = (await outbox()).checks["jobs-stuck-created"]!;
    expect(stuck).toMatchObject({ status: "fail", observed: 1, message: expect.stringMatching(/: 1 startup recovery reset$/) });
    expect(stuck.evidence).toEqual([expect.stringMatching(new RegExp(
      `^job ${id}: 7\\d\\d s in created, put back in created by the runner's startup recovery \\d s ago, 7\\d\\d s after submission \\(it was processing over 10 min at a restart; recovery writes no outbox row`))]);
    // The remedy: once the first run's job lock has expired (here: deleted), republish.
    await h.redis.del(`${h.prefix}job:processing:${id}`);
    expect((await call(`${s.url}/emergency/republish-stuck-jobs`, { method: "POST" })).status).toBe(200);
    await waitForStatus(s, id, "completed");
    expect((await outbox()).checks["jobs-stuck-created"]?.status).toBe("pass");
  });

  it("a portal job is queued for its whole run with no outbox row: not stuck while it may still run, named as the portal path's once past it", async () => {
    s.incidents.set("provider-missing:eu-west", true); // too few regions with a provider: the run ends without a status
    const jobspec: Record<string, unknown> = { ...jobSpec(), created_at: new Date().toISOString(), constraints: { regions: ["US", "EU"] } };
    const id = String(jobspec["jobspec_id"]);
    expect((await call(`${s.url}/api/v1/jobs/cross-region`, { method: "POST", json: { jobspec, target_regions: ["US", "EU"], min_regions: 2 } })).status).toBe(202);
    await waitFor(async () => s.crossRegionInFlight() === 0, "the portal run ended");
    expect(await statusOf(id)).toBe("queued");
    expect((await s.pool.query("SELECT count(*)::int AS n FROM outbox WHERE payload->>'id' = $1", [id])).rows[0].n).toBe(0);
    await s.pool.query("UPDATE jobs SET created_at = created_at - interval '10 minutes', updated_at = updated_at - interval '10 minutes' WHERE jobspec_id = $1", [id]);
    const running = await outbox();
    expect(running.checks["jobs-stuck-queued"]?.status).toBe("pass"); // 10 min: within the portal path's 15-minute run
    expect(running.checks["jobs-stuck-created"]?.status).toBe("pass"); // never read as "created without an outbox row"
    await s.pool.query("UPDATE jobs SET created_at = created_at - interval '10 minutes', updated_at = updated_at - interval '10 minutes' WHERE jobspec_id = $1", [id]);
    const lost = (await outbox()).checks["jobs-stuck-queued"]!;
    expect(lost).toMatchObject({ status: "fail", observed: 1 });
    expect(lost.evidence).toEqual([expect.stringMatching(new RegExp(`^job ${id}: 1[12]\\d\\d s in queued, past the portal path's 15-minute run .*its run ended without writing a status`))]);
    await s.pool.query("DELETE FROM jobs WHERE jobspec_id = $1", [id]);
  });
});
