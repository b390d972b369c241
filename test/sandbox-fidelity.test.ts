import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "./sandbox/index.ts";
import { BeaconSettings } from "../shared/beacon/settings.ts";
import { silentLogger } from "../shared/log.ts";
import { outboxProbe, OutboxSettings } from "../shared/probes/outbox/index.ts";
import { createSqlClient } from "../shared/sql.ts";
import { closePool, createSqlPool } from "../shared/db.ts";
import { testServices } from "./support/env.ts";
import { call, createHarness, jobSpec, submit, waitFor, type Harness } from "./sandbox/testing.ts";

/** Where the sandbox follows the real runner rather than the idealised contract (see README fidelity table). */
describe("sandbox fidelity to Beacon's Go code", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const statusOf = async (s: Sandbox, id: string) => (await s.pool.query("SELECT status FROM jobs WHERE jobspec_id = $1", [id])).rows[0]?.status as string | undefined;
  const settled = (s: Sandbox, id: string, status: string) => waitFor(async () => (await statusOf(s, id)) === status, `job ${id} ${status}`);
  const executions = async (s: Sandbox, id: string) =>
    Number((await s.pool.query("SELECT count(*) FROM executions e JOIN jobs j ON e.job_id = j.id WHERE j.jobspec_id = $1", [id])).rows[0].count);
  const models = [{ id: "llama3.2-1b", name: "Llama", provider: "modal", container_image: "x", regions: ["US"] }];

  it("strict completion barrier: a multi-model job stays in finalizing although every execution is persisted", async () => {
    const s = await h.start({ sigBypass: true, strictCompletionBarrier: true, queueName: `${h.prefix}barrier` });
    const spec = jobSpec({ models });
    expect((await submit(s, spec)).status).toBe(202);
    const id = String(spec["jobspec_id"]);
    await settled(s, id, "finalizing");
    await s.drain();
    expect([await statusOf(s, id), await executions(s, id)]).toEqual(["finalizing", 1]); // Beacon's count query errors: 0 < 1
    // The outbox probe names it once it has sat there past the threshold, and passes once it is gone.
    const probePool = createSqlPool({ connectionString: h.db.connectionString, wsProxy: testServices().postgres.wsProxy, max: 1 });
    const sql = createSqlClient(probePool, { statementTimeoutMs: 5_000 });
    const stuckCheck = async () => {
      const out = await outboxProbe.run({
        deps: { now: () => new Date(), fetch, log: silentLogger, sql },
        settings: OutboxSettings.parse({ finalizingMaxSeconds: 300 }), beacon: BeaconSettings.parse({}), targets: { healthUrls: [] },
        signal: new AbortController().signal,
      });
      return out.checks.find((c) => c.name === "jobs-stuck-finalizing")!;
    };
    expect((await stuckCheck()).status).toBe("pass"); // not yet past 300 s
    await s.pool.query("UPDATE jobs SET updated_at = updated_at - interval '400 seconds' WHERE jobspec_id = $1", [id]);
    expect(await stuckCheck()).toMatchObject({ status: "fail", evidence: [expect.stringMatching(new RegExp(`^job ${id}: 4\\d\\d s in finalizing`))] });
    await call(`${s.url}/__sandbox/reset`, { method: "POST" });
    expect((await stuckCheck()).status).toBe("pass");
    await closePool(probePool);
    // Without models the barrier expects 0 executions and lets the job complete.
    const plain = jobSpec();
    expect((await submit(s, plain)).status).toBe(202);
    await settled(s, String(plain["jobspec_id"]), "completed");
    await s.close(); // one sandbox per schema at a time: several would double-publish (see README)
  });

  it("undecodable-receipt: ?include=executions serves the row's receipt as a map; ?include=latest, which decodes, answers no execution", async () => {
    // handlers_simple.go:241-365 (every row, json.Unmarshal into a map) and :228-238 (latest: the Go struct).
    const s = await h.start({ sigBypass: true, receiptVariant: "direct", queueName: `${h.prefix}decode` });
    s.incidents.set("undecodable-receipt", true);
    const bad = jobSpec();
    await submit(s, bad);
    await settled(s, String(bad["jobspec_id"]), "completed");
    s.incidents.set("undecodable-receipt", false);
    const good = jobSpec();
    await submit(s, good);
    await settled(s, String(good["jobspec_id"]), "completed");
    const served = await call(`${s.url}/api/v1/jobs/${bad["jobspec_id"]}?include=executions`);
    expect(served.status).toBe(200);
    expect(served.body.executions[0].receipt.execution_details.duration).toMatch(/^\d+ms$/);
    expect((await call(`${s.url}/api/v1/jobs/${bad["jobspec_id"]}?include=latest`)).body.executions).toEqual([]);
    const fine = await call(`${s.url}/api/v1/jobs/${good["jobspec_id"]}?include=latest`);
    expect([fine.status, fine.body.executions.length]).toEqual([200, 1]);
    await s.close();
  });

  it("slow-worker feeds the processing-time SLO from the database: a late first execution is a bad outbox:start-latency event naming the job", async () => {
    const s = await h.start({ sigBypass: true, slowWorkerDelayMs: 1_500, queueName: `${h.prefix}slow` });
    const probePool = createSqlPool({ connectionString: h.db.connectionString, wsProxy: testServices().postgres.wsProxy, max: 1 });
    let state: unknown;
    const sli = async () => {
      const out = await outboxProbe.run({
        deps: { now: () => new Date(), fetch, log: silentLogger, sql: createSqlClient(probePool, { statementTimeoutMs: 5_000 }) },
        settings: OutboxSettings.parse({ startWithinSeconds: 1, sliSettleSeconds: 0, sliInitialWindowSeconds: 600 }), beacon: BeaconSettings.parse({}),
        targets: { healthUrls: [] }, signal: new AbortController().signal, previousState: state,
      });
      state = out.state;
      return { events: out.events, check: out.checks.find((c) => c.name === "jobs-finished")! };
    };
    try {
      await sli(); // earlier tests' jobs: counted and behind the mark now
      s.incidents.set("slow-worker", true);
      const slow = jobSpec();
      await submit(s, slow);
      await settled(s, String(slow["jobspec_id"]), "completed");
      const late = await sli();
      expect(late.events?.["start-latency"]).toEqual({ good: 0, total: 1 });
      expect(late.check.evidence).toEqual([expect.stringMatching(new RegExp(`^job ${slow["jobspec_id"]}: first execution started [12] s after submission$`))]);
      s.incidents.set("slow-worker", false);
      const quick = jobSpec();
      await submit(s, quick);
      await settled(s, String(quick["jobspec_id"]), "completed");
      expect(await sli()).toMatchObject({ events: { "start-latency": { good: 1, total: 1 }, jobs: { good: 1, total: 1 } }, check: { status: "pass" } });
    } finally {
      await closePool(probePool);
      await s.close();
    }
  });

  it("duplicate-executions: each execution row is written twice", async () => {
    const s = await h.start({ sigBypass: true, queueName: `${h.prefix}dup` });
    s.incidents.set("duplicate-executions", true);
    const spec = jobSpec();
    await submit(s, spec);
    await settled(s, String(spec["jobspec_id"]), "completed");
    expect(await executions(s, String(spec["jobspec_id"]))).toBe(2);
  });

  it("idleFallback: every dead letter of a failing queue-path job records the run's failure and names that job (how many the BRPOP fallback spares varies from run to run, and is not pinned here)", async () => {
    // redis.go StartWorker: between two advanced Dequeues (which dead-letter a flat envelope on its first error) a
    // simple BRPOP runs the envelope and ignores the error. Six failing jobs: each lands on either, never both.
    const s = await h.start({ sigBypass: true, idleFallback: true, queueName: `${h.prefix}fallback` });
    s.incidents.set("region-down:us-east", true); // a US-only job fails
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const spec = jobSpec();
      ids.push(String(spec["jobspec_id"]));
      await submit(s, spec);
      await settled(s, String(spec["jobspec_id"]), "failed");
    }
    const dead = await h.redis.lrange(s.keys.dead, 0, -1);
    // Counted by job: under load a job can reach the list more than once (seen: 8 entries for 6 jobs),
    // which this test does not pin down; what it claims is that not every failed job is dead-lettered.
    // Every entry belongs to one of these jobs (by its spec id, also inside a rebuilt `env:<id>:<ns>` id).
    const deadJobs = new Set(dead.map((entry) => ids.find((id) => entry.includes(id))));
    expect(deadJobs.has(undefined)).toBe(false);
    console.info(`idleFallback: ${deadJobs.size} of ${ids.length} failed jobs dead-lettered (${dead.length} entries)`);
    for (const entry of dead) expect(JSON.parse(entry).error).toMatch(/^multi-region execution failed: /);
    await s.close();
  });
});

describe("the fidelity table (test/sandbox/README.md)", () => {
  it("cites a file and line of Beacon's code for every behaviour it claims to follow", () => {
    const readme = readFileSync(new URL("./sandbox/README.md", import.meta.url), "utf8");
    const table = readme.slice(readme.indexOf("## Fidelity to Beacon's Go code"), readme.indexOf("## Decisions where the contract is uncertain"));
    const rows = table.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| behaviour") && !l.startsWith("|---"));
    expect(rows.length).toBeGreaterThan(20);
    const uncited = rows.filter((row) => !/`(ra|Website)\/[^`]+:\d+/.test(row.split(" | ")[1] ?? ""));
    expect(uncited).toEqual([]);
  });
});

