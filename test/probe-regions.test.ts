import type { Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BeaconSettings } from "../shared/beacon/settings.ts";
import { closePool, createSqlPool } from "../shared/db.ts";
import { silentLogger } from "../shared/log.ts";
import type { Check } from "../shared/result.ts";
import { regionsProbe, RegionsState } from "../shared/probes/regions/index.ts";
import type { RegionsSettings } from "../shared/probes/regions/settings.ts";
import { queryRegions } from "../shared/probes/regions/query.ts";
import { createSqlClient, type SqlClient } from "../shared/sql.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { call, createHarness, waitFor, type Harness } from "./sandbox/testing.ts";
import { testServices } from "./support/env.ts";

/**
 * The regions probe against the sandbox on the hybrid path (three regions, one execution per region ×
 * model × question). Each regional incident is switched on: jobs still complete by min_success_rate,
 * the probe names the region, the model, the dominant cause and example executions, and the other
 * regions pass; switched off (and aged out of the window), the region passes again.
 */
const WINDOW_S = 3;
const REGIONS = ["us-east", "eu-west", "asia-pacific"];

describe("regions probe on the hybrid path", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let probePool: Pool;
  let sql: SqlClient;
  let state: unknown;
  let seq = 0;

  async function run(overrides: Partial<RegionsSettings> = {}) {
    const out = await regionsProbe.run({
      deps: { now: () => new Date(), fetch, log: silentLogger, sql },
      settings: regionsProbe.settings.parse({ windowSeconds: WINDOW_S, askedSettleSeconds: 0, minExecutions: 3, ...overrides }),
      beacon: BeaconSettings.parse({}),
      targets: { apiUrl: sandbox.url, routerUrl: `${sandbox.url}/__router`, healthUrls: [], databaseLabel: "postgres://sandbox" },
      signal: new AbortController().signal,
      previousState: state,
    });
    state = out.state;
    const checks: Record<string, Check> = Object.fromEntries(out.checks.map((c) => [c.name, c]));
    return { checks, events: out.events ?? {}, grid: RegionsState.parse(out.state).grid! };
  }

  /** n jobs over the three regions (two questions each), run to completed or failed; returns their ids and statuses. */
  async function runJobs(n: number, extra: Record<string, unknown> = {}): Promise<{ id: string; status: string }[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = `${h.prefix}region-${++seq}`;
      const res = await call(`${sandbox.url}/api/v1/jobs`, {
        method: "POST",
        json: { jobspec_id: id, version: "v1", benchmark: { name: "bias-detection", container: { image: "beacon/llama" }, input: { hash: "sha256:1" } },
          constraints: { regions: ["US", "EU", "APAC"], min_regions: 1, min_success_rate: 0.6 }, questions: ["identity_basic", "math_basic"], ...extra },
      });
      expect(res.status).toBe(202);
      ids.push(id);
    }
    return Promise.all(ids.map((id) => waitFor(async () => {
      const status = (await sandbox.pool.query("SELECT status FROM jobs WHERE jobspec_id = $1", [id])).rows[0]?.status;
      return status === "completed" || status === "failed" ? { id, status } : undefined;
    }, `job ${id} finished`)));
  }

  /** Lets everything so far leave the judging window. */
  const ageOut = () => new Promise((resolve) => setTimeout(resolve, WINDOW_S * 1000 + 300));

  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start({ sigBypass: true, hybridPath: true });
    probePool = createSqlPool({ connectionString: h.db.connectionString, wsProxy: testServices().postgres.wsProxy, max: 2 });
    sql = createSqlClient(probePool, { statementTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    if (probePool) await closePool(probePool);
    await h?.close();
  });

  it("passes every region, provider and the router on a healthy pipeline, and counts each region's executions as events", async () => {
    await runJobs(2);
    const { checks, events, grid } = await run();
    for (const r of REGIONS) expect(checks[`region:${r}`], r).toMatchObject({ status: "pass", observed: 1 });
    expect(events).toEqual({ "executions-us-east": { good: 4, total: 4 }, "executions-eu-west": { good: 4, total: 4 }, "executions-asia-pacific": { good: 4, total: 4 } });
    expect(checks["restart-lost"]?.status).toBe("pass");
    expect(checks["provider:yagna"]?.status).toBe("pass");
    expect(checks["router"]).toMatchObject({ status: "pass", message: expect.stringContaining("3 of 3 providers healthy, serves asia-pacific, eu-west, us-east") });
    expect(grid.cells.map((c) => [c.region, c.model, c.state, c.completed])).toEqual([
      ["asia-pacific", "llama3.2-1b", "pass", 4], ["eu-west", "llama3.2-1b", "pass", 4], ["us-east", "llama3.2-1b", "pass", 4],
    ]);
    // The next run counts only executions past the mark: none.
    expect((await run()).events).toEqual({});
  });

  it("region-down eu-west: jobs still complete, eu-west fails with its model, ROUTER_HTTP_502 and execution ids, the others pass; cleared when off", async () => {
    await ageOut();
    sandbox.incidents.set("region-down:eu-west", true);
    const jobs = await runJobs(2);
    expect(jobs.map((j) => j.status)).toEqual(["completed", "completed"]);
    const { checks, events, grid } = await run();
    const eu = checks["region:eu-west"]!;
    expect(eu).toMatchObject({ status: "fail", observed: 0 });
    expect(eu.message).toMatch(/^eu-west: 0 of 4 finished executions completed \(0%\) in the last 3 s, while asia-pacific, us-east succeed; dominant cause ROUTER_HTTP_502 \(router_http_request\/hybrid_router, transient\) ×4/);
    expect(eu.message).toContain("jobs may still read completed");
    const ids = (await sandbox.pool.query("SELECT id FROM executions WHERE region = 'eu-west' AND status = 'failed' ORDER BY id DESC")).rows.map((r: any) => r.id);
    expect(eu.evidence[0]).toBe("eu-west/llama3.2-1b: 4 of 4 failed, mostly ROUTER_HTTP_502 (router_http_request/hybrid_router, transient) ×4");
    expect(eu.evidence.slice(1)).toEqual(ids.slice(0, 4).map((id: number) => `execution ${id}: eu-west/llama3.2-1b ROUTER_HTTP_502 (router_http_request/hybrid_router, transient)`));
    expect(checks["region:us-east"]?.status).toBe("pass");
    expect(checks["region:asia-pacific"]?.status).toBe("pass");
    expect(events["executions-eu-west"]).toEqual({ good: 0, total: 4 });
    expect(events["executions-us-east"]).toEqual({ good: 4, total: 4 });
    expect(checks["router"]).toMatchObject({ status: "warn", evidence: [expect.stringContaining("2 of 3 providers healthy"), expect.stringContaining("status degraded")] });
    expect(grid.cells.find((c) => c.region === "eu-west")).toMatchObject({ state: "fail", failed: 4, technicalErrors: 4, dominantCause: "ROUTER_HTTP_502 (router_http_request/hybrid_router, transient) ×4" });

    sandbox.incidents.set("region-down:eu-west", false);
    await ageOut();
    await runJobs(2);
    const after = await run();
    for (const r of REGIONS) expect(after.checks[`region:${r}`]?.status, r).toBe("pass");
    expect(after.checks["router"]?.status).toBe("pass");
  });

  it("router-timeout asia-pacific: asia-pacific fails naming ROUTER_TIMEOUT and counts timeouts, the others pass; cleared when off", async () => {
    await ageOut();
    sandbox.incidents.set("router-timeout:asia-pacific", true);
    expect((await runJobs(2)).map((j) => j.status)).toEqual(["completed", "completed"]);
    const { checks, grid } = await run();
    expect(checks["region:asia-pacific"]).toMatchObject({ status: "fail", message: expect.stringContaining("dominant cause ROUTER_TIMEOUT (router_http_timeout/hybrid_router, transient) ×4") });
    expect(checks["region:asia-pacific"]?.evidence.filter((e) => e.startsWith("execution "))).toHaveLength(4);
    expect(checks["region:us-east"]?.status).toBe("pass");
    expect(checks["region:eu-west"]?.status).toBe("pass");
    expect(grid.cells.find((c) => c.region === "asia-pacific")).toMatchObject({ timedOut: 4, failed: 0, state: "fail" });
    sandbox.incidents.set("router-timeout:asia-pacific", false);
    await ageOut();
    await runJobs(2);
    expect((await run()).checks["region:asia-pacific"]?.status).toBe("pass");
  });

  it("a region that stopped appearing in jobs that asked for it fails, naming the jobs; passes once jobs run there again", async () => {
    await ageOut();
    // The model lists US and EU only: Beacon runs a model in the job's regions it lists, so APAC gets nothing.
    const model = { id: "llama3.2-1b", name: "Llama 3.2 1B", provider: "hybrid", container_image: "beacon/llama", regions: ["US", "EU"] };
    const jobs = await runJobs(2, { models: [model] });
    expect(jobs.map((j) => j.status)).toEqual(["completed", "completed"]);
    const { checks } = await run();
    expect(checks["region:asia-pacific"]).toMatchObject({ status: "fail", message: expect.stringContaining("2 of 2 jobs that asked for asia-pacific in the last 3 s have no execution there: the region stopped appearing") });
    expect([...checks["region:asia-pacific"]!.evidence].sort()).toEqual(jobs.map((j) => `job ${j.id}: asked for asia-pacific, no execution in asia-pacific`).sort());
    expect(checks["region:us-east"]?.status).toBe("pass");
    await ageOut();
    await runJobs(2);
    expect((await run()).checks["region:asia-pacific"]?.status).toBe("pass");
  });

  it("a provider of the runner's /health that is unhealthy fails as its own check; clears when healthy", async () => {
    sandbox.incidents.set("health-unhealthy", true);
    const on = await run();
    expect(on.checks["provider:yagna"]).toMatchObject({ status: "fail", observed: "unhealthy", message: expect.stringContaining("serves every region (Beacon's /health does not say which)") });
    expect(on.checks["provider:ipfs"]?.status).toBe("pass");
    sandbox.incidents.set("health-unhealthy", false);
    expect((await run()).checks["provider:yagna"]?.status).toBe("pass");
  });

  it("a runner restart loses in-process cross-region jobs: restart-lost names them, the restart and that Beacon has no remediation; clears once resubmitted", async () => {
    await run(); // remembers the current start time
    sandbox.incidents.set("slow-worker", true);
    const id = `${h.prefix}cross-${++seq}`;
    // created_at as the portal sends it: the portal path stores it as jobs.created_at (store/jobs_repo.go:45-48).
    const jobspec = { jobspec_id: id, version: "v1", created_at: new Date().toISOString(), benchmark: { name: "bias-detection", container: { image: "beacon/llama" }, input: { hash: "sha256:1" } },
      constraints: { regions: ["US", "EU"], min_regions: 1 }, questions: ["math_basic"] };
    const submitted = await call(`${sandbox.url}/api/v1/jobs/cross-region`, { method: "POST", json: { jobspec, target_regions: ["US", "EU"], min_regions: 1, min_success_rate: 0.5 } });
    expect(submitted).toMatchObject({ status: 202, body: { jobspec_id: id, status: "submitted" } });
    await waitFor(async () => sandbox.crossRegionInFlight() === 1, "the cross-region run in flight");
    await new Promise((resolve) => setTimeout(resolve, 30));
    sandbox.restartRunner();
    sandbox.incidents.set("slow-worker", false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await sandbox.pool.query("SELECT status FROM jobs WHERE jobspec_id = $1", [id])).rows[0]?.status).toBe("queued");
    expect((await sandbox.pool.query("SELECT count(*)::int AS n FROM outbox")).rows[0].n).toBeGreaterThan(0); // the queue path's rows, none of this job's
    expect((await sandbox.pool.query("SELECT count(*)::int AS n FROM outbox WHERE payload->>'id' = $1", [id])).rows[0].n).toBe(0);

    const { checks } = await run();
    const lost = checks["restart-lost"]!;
    expect(lost).toMatchObject({ status: "fail", observed: 1 });
    expect(lost.message).toMatch(/^the runner restarted at \S+ \(previous start \S+\); 1 cross-region jobs created before it are still queued/);
    expect(lost.message).toContain("Beacon has no remediation for this");
    expect(lost.evidence).toEqual([expect.stringMatching(new RegExp(`^job ${id}: queued since \\S+, \\d+ s before the runner's start$`))]);

    // The same spec cannot be resubmitted: the portal path's plain INSERT meets jobspec_id's unique constraint
    // (store/jobs_repo.go:45-48, seen on the real runner). Once the lost job is closed by hand, the check clears.
    const again = await call(`${sandbox.url}/api/v1/jobs/cross-region`, { method: "POST", json: { jobspec, target_regions: ["US", "EU"], min_regions: 1, min_success_rate: 0.5 } });
    expect(again).toMatchObject({ status: 500, body: { error: "Failed to create job record" } });
    await sandbox.pool.query("UPDATE jobs SET status = 'failed', updated_at = NOW() WHERE jobspec_id = $1", [id]);
    expect((await run()).checks["restart-lost"]).toMatchObject({ status: "pass", observed: 0 });
  });

  it("its one statement reads executions and jobs through their indexes, never a whole table", async () => {
    const client = await sandbox.pool.connect();
    try {
      await client.query("SET enable_seqscan = off"); // tiny test tables: make the planner show what it can use
      const explain: SqlClient = { query: async (text, params) => (await client.query(`EXPLAIN ${text}`, params)).rows as never };
      const plan = (await queryRegions(explain, BeaconSettings.parse({}).tables, {
        windowSeconds: 3600, gridWindowSeconds: 86400, mark: null, initialWindowSeconds: 300, askedSettleSeconds: 600, exampleIds: 5, queuedLimit: 50,
        regionNames: BeaconSettings.parse({}).regions, routerClientTimeoutSeconds: 300, gridRowLimit: 10_000,
      })).map((r) => String((r as unknown as Record<string, unknown>)["QUERY PLAN"])).join("\n");
      expect(plan).toMatch(/Index (Only )?Scan using idx_executions_created_at on executions|Bitmap Index Scan on idx_executions_created_at/);
      expect(plan).toMatch(/idx_jobs_created_at/);
      expect(plan).toMatch(/idx_jobs_status_created|idx_jobs_status/);
      expect(plan).not.toMatch(/Seq Scan on (executions|jobs)/);
    } finally {
      await client.query("RESET enable_seqscan");
      client.release();
    }
  });

  it("reads at most gridRowLimit executions, newest first, and every region check says the grid was cut", async () => {
    await runJobs(1);
    const { checks, grid } = await run({ gridRowLimit: 2 });
    expect(grid.cells.reduce((n, c) => n + c.started, 0)).toBe(2);
    const regionChecks = Object.values(checks).filter((c) => c.name.startsWith("region:"));
    expect(regionChecks.length).toBeGreaterThan(0);
    for (const c of regionChecks) expect(c.message).toMatch(/; only the newest 2 executions were read \(gridRowLimit\), reaching back \d+ min$/);
    const uncapped = await run();
    for (const c of Object.values(uncapped.checks)) expect(c.message).not.toMatch(/gridRowLimit/);
  });

  it("without the database the region checks are blind (error), never a pass", async () => {
    const out = await regionsProbe.run({
      deps: { now: () => new Date(), fetch, log: silentLogger },
      settings: regionsProbe.settings.parse({}), beacon: BeaconSettings.parse({}),
      targets: { apiUrl: sandbox.url, healthUrls: [] }, signal: new AbortController().signal,
    });
    expect(out.checks.find((c) => c.name === "regions")).toMatchObject({ status: "error", message: expect.stringContaining("BEACON_DATABASE_URL is not set") });
    expect(out.checks.find((c) => c.name === "restart-lost")?.status).toBe("error");
    expect(out.events).toBeUndefined();
  });
});
