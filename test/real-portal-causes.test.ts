import type { Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BeaconSettings } from "../shared/beacon/settings.ts";
import { closePool, createSqlPool } from "../shared/db.ts";
import { silentLogger } from "../shared/log.ts";
import type { Check } from "../shared/result.ts";
import { regionsProbe } from "../shared/probes/regions/index.ts";
import { receiptsProbe } from "../shared/probes/receipts/index.ts";
import { createSqlClient, type SqlClient } from "../shared/sql.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { call, createHarness, waitFor, type Harness } from "./sandbox/testing.ts";
import { canaryRig } from "./support/canary.ts";
import { testServices } from "./support/env.ts";
import { generateKeyPair } from "../shared/beacon/signing.ts";

/**
 * The portal path's failure causes. Its failed execution rows carry no cause (NULL output): the runner
 * keeps its own words in `cross_region_executions` / `region_results` (`cross_region_handlers.go:331-428`,
 * `cross_region_executor.go:281-292,449-463`), and says nothing at all for a region it did not plan.
 * The failing `region:<r>` check names that record; cleared, the region passes again.
 */
const CLIENT_TIMEOUT_MS = 200;
const BEACON = BeaconSettings.parse({ runner: { routerClientTimeoutSeconds: CLIENT_TIMEOUT_MS / 1000 } });

describe("the portal path's own record of a failed region (region_results)", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let probePool: Pool;
  let sql: SqlClient;
  let state: unknown;
  let seq = 0;

  async function regions(): Promise<Record<string, Check>> {
    const out = await regionsProbe.run({
      deps: { now: () => new Date(), fetch, log: silentLogger, sql },
      settings: regionsProbe.settings.parse({ windowSeconds: 5, askedSettleSeconds: 0, minExecutions: 2 }), beacon: BEACON,
      targets: { apiUrl: sandbox.url, healthUrls: [], databaseLabel: "postgres://sandbox" }, signal: new AbortController().signal, previousState: state,
    });
    state = out.state;
    return Object.fromEntries(out.checks.map((c) => [c.name, c]));
  }
  async function jobAnswers(): Promise<Check> {
    const out = await receiptsProbe.run({
      deps: { now: () => new Date(), fetch, log: silentLogger, sql },
      settings: receiptsProbe.settings.parse({ maxJobs: 1, answerJobs: 1 }), beacon: BEACON,
      targets: { apiUrl: sandbox.url, healthUrls: [], databaseLabel: "postgres://sandbox" }, signal: new AbortController().signal,
    });
    return out.checks.find((c) => c.name === "job-answers")!;
  }
  const ageOut = () => new Promise((resolve) => setTimeout(resolve, 5_300));
  const statusOf = async (id: string) => (await sandbox.pool.query("SELECT status FROM jobs WHERE jobspec_id = $1", [id])).rows[0]?.status as string | undefined;

  /** The portal's submit (`useBiasDetection.js`), one model, US + EU, two questions, run to the end. */
  async function portalJob(request: Record<string, unknown> = {}): Promise<string> {
    const id = `${h.prefix}portal-cause-${++seq}`;
    const jobspec = {
      jobspec_id: id, version: "v1", created_at: new Date().toISOString(),
      benchmark: { name: "bias-detection", container: { image: "ghcr.io/project-beacon/bias-detection:latest" }, input: { hash: "sha256:placeholder" } },
      constraints: { regions: ["US", "EU"], min_regions: 1 }, questions: ["identity_basic", "math_basic"],
      metadata: { created_by: "portal", models: ["llama3.2-1b"], model: "llama3.2-1b" },
    };
    const res = await call(`${sandbox.url}/api/v1/jobs/cross-region`, { method: "POST", json: { jobspec, target_regions: ["US", "EU"], min_regions: 1, min_success_rate: 0.67, ...request } });
    expect(res.status).toBe(202);
    await waitFor(async () => sandbox.crossRegionInFlight() === 0, `portal job ${id} run`);
    return id;
  }

  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start({ sigBypass: true, hybridPath: true, routerClientTimeoutMs: CLIENT_TIMEOUT_MS, executionDelayMs: 50 });
    probePool = createSqlPool({ connectionString: h.db.connectionString, wsProxy: testServices().postgres.wsProxy, max: 2 });
    sql = createSqlClient(probePool, { statementTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    if (probePool) await closePool(probePool);
    await h?.close();
  });
  beforeEach(async () => {
    sandbox.incidents.reset();
    await ageOut();
  });

  it("a router that never answers for EU: rows without a cause, the run partial, the job running for good; region:eu-west names region_results' words", async () => {
    sandbox.incidents.set("router-hang:eu-west", true);
    const id = await portalJob();
    expect(await statusOf(id)).toBe("running"); // 1 of 2 regions < 0.67: partial
    const { rows } = await sandbox.pool.query(
      `SELECT c.status AS run, r.region, r.status, r.error_message FROM cross_region_executions c JOIN region_results r ON r.cross_region_execution_id = c.id
       WHERE c.jobspec_id = $1 ORDER BY r.region`, [id]);
    expect(rows).toEqual([
      { run: "partial", region: "EU", status: "failed", error_message: "all executions failed" },
      { run: "partial", region: "US", status: "success", error_message: "" },
    ]);
    const eu = (await regions())["region:eu-west"]!;
    expect(eu.status).toBe("fail");
    expect(eu.message).toMatch(/dominant cause no failure code in the row \(output_data NULL: the portal path keeps the cause in region_results\) ×2; .*the runner's record of its portal runs: region_results failed "all executions failed" after up to \d+ s ×1/);
    expect(eu.evidence).toContainEqual(expect.stringMatching(new RegExp(`^job ${id}: eu-west region_results failed "all executions failed" after up to \\d+ s$`)));
    // The job reads running for good: job-answers judges it too, each failed row with the run's record.
    // One EU row never written (Beacon's lost insert, or cut by the region timeout): named, not counted present.
    await sandbox.pool.query(
      "DELETE FROM executions e USING jobs j WHERE e.job_id = j.id AND j.jobspec_id = $1 AND e.region = 'EU' AND e.question_id = 'math_basic'", [id]);
    const answers = await jobAnswers();
    expect(answers).toMatchObject({ status: "warn", observed: 2 });
    expect(answers.message).toMatch(/^2 of 4 expected answers of 1 jobs present, 1 failed executions \(no cause stored ×1\), 1 never written by runs that did not complete: /);
    expect(answers.evidence).toContainEqual(expect.stringMatching(new RegExp(`^job ${id} \\(running\\): no execution for eu-west / llama3.2-1b / math_basic, never written; the runner's record: region_results EU failed`)));
    expect(answers.evidence[0]).toMatch(new RegExp(`^job ${id} execution \\d+ \\(eu-west / llama3.2-1b / \\w+\\): failed after \\d+ s, no cause in the row \\(NULL output: the portal path keeps it in region_results\\); the runner's record: region_results EU failed "all executions failed" after \\d+ s$`));
    sandbox.incidents.set("router-hang:eu-west", false);
    await ageOut();
    await portalJob();
    expect((await regions())["region:eu-west"]).toMatchObject({ status: "pass" });
  });

  it("no provider for EU: the run skips it without a word and completes; region:eu-west says the run planned nothing there", async () => {
    sandbox.incidents.set("provider-missing:eu-west", true);
    const id = await portalJob();
    expect(await statusOf(id)).toBe("completed");
    const eu = (await regions())["region:eu-west"]!;
    expect(eu.status).toBe("fail");
    expect(eu.message).toContain("1 of 1 jobs that asked for eu-west in the last 5 s have no execution there");
    expect(eu.message).toContain("the runner's record of its portal runs: not run: the cross-region run planned no execution there (the router listed no provider for the region: cross_region_executor.go:281-292) ×1");
    expect(eu.evidence).toContain(`job ${id}: eu-west not run: the cross-region run planned no execution there (the router listed no provider for the region: cross_region_executor.go:281-292)`);
    expect((await regions())["region:us-east"]?.status).not.toBe("fail");
    const answers = await jobAnswers();
    expect(answers.status).toBe("fail");
    expect(answers.evidence).toContain(`job ${id}: no execution for eu-west / llama3.2-1b / identity_basic (the portal shows no answer for it; the runner's record: the run did not plan eu-west (the router listed no provider for it: cross_region_executor.go:281-292))`);
  });

  it("a row lost by the portal path (its region_results reads success): job-answers names the runner's record and the lost insert", async () => {
    const id = await portalJob();
    await sandbox.pool.query(
      "DELETE FROM executions e USING jobs j WHERE e.job_id = j.id AND j.jobspec_id = $1 AND e.region = 'US' AND e.question_id = 'math_basic'", [id]);
    const answers = await jobAnswers();
    expect(answers.status).toBe("fail");
    expect(answers.evidence[0]).toMatch(new RegExp(`^job ${id}: no execution for us-east / llama3.2-1b / math_basic \\(the portal shows no answer for it; the runner's record: region_results US success after \\d+ s, yet no row: its insert runs in a goroutine of its own`));
    await portalJob();
    expect((await jobAnswers()).status).toBe("pass");
  });

  it("the canary's job completed but its row was lost (Beacon's callback after the cancelled context, seen on the real runner): decided at once, naming it", async () => {
    const r = canaryRig(h, sandbox, generateKeyPair().privateKey, {});
    try {
      r.advance(15 * 60);
      await r.invoke();
      const id = (await r.state()).inFlight!.id;
      await waitFor(async () => sandbox.crossRegionInFlight() === 0, "the portal run ended");
      // What the runner's lost insert leaves: the job completed, region_results success, no execution row.
      await sandbox.pool.query("DELETE FROM executions e USING jobs j WHERE e.job_id = j.id AND j.jobspec_id = $1", [id]);
      r.advance(5);
      expect((await r.invoke()).by["stage:started"]!.message).toMatch(/^pending/); // inserts may still land
      // Ten seconds on Beacon's own clock since the job's status was written.
      await sandbox.pool.query("UPDATE jobs SET updated_at = updated_at - interval '11 seconds' WHERE jobspec_id = $1", [id]);
      const { by } = await r.invoke();
      expect(by["stage:started"]).toMatchObject({ status: "fail" });
      expect(by["stage:started"]!.message).toMatch(/^\d+ s in completed: the run completed the job but no execution row was stored \(the runner's record: run completed; region_results US success\): its row inserts run in goroutines of their own/);
      expect(by["stage:completed"]!.message).toBe(`not reached yet: canary ${id} is held at started`);
    } finally {
      await r.close();
    }
  });

  it("too few regions with a provider (min_regions 2): the plan fails, nothing runs, the job stays queued; both regions name the failed plan", async () => {
    sandbox.incidents.set("provider-missing:eu-west", true);
    const id = await portalJob({ min_regions: 2 });
    expect(await statusOf(id)).toBe("queued");
    expect((await sandbox.pool.query("SELECT status, failure_count FROM cross_region_executions WHERE jobspec_id = $1", [id])).rows).toEqual([{ status: "failed", failure_count: 2 }]);
    const checks = await regions();
    for (const region of ["us-east", "eu-west"]) {
      expect(checks[`region:${region}`]!.message, region).toContain("not run: the run's plan failed (fewer regions with a provider than min_regions), no region ran and the job stays queued");
    }
    sandbox.incidents.set("provider-missing:eu-west", false);
    await ageOut();
    await portalJob();
    const healed = await regions();
    expect([healed["region:us-east"]?.status, healed["region:eu-west"]?.status]).toEqual(["pass", "pass"]);
  });
});
