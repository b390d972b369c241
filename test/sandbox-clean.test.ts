import type { Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxCommand } from "../netlify/cli/local.ts";
import { Settings } from "../shared/config/index.ts";
import { closePool, createSqlPool } from "../shared/db.ts";
import { silentLogger } from "../shared/log.ts";
import { outboxProbe } from "../shared/probes/outbox/index.ts";
import { receiptsProbe } from "../shared/probes/receipts/index.ts";
import type { ProbeResult } from "../shared/result.ts";
import { runProbe } from "../shared/runner.ts";
import { createSqlClient, type SqlClient } from "../shared/sql.ts";
import { startSandbox, type Sandbox } from "./sandbox/index.ts";
import { createHarness, jobSpec, submit, waitFor, waitForStatus, type Harness } from "./sandbox/testing.ts";
import { createDirectRedis, testServices } from "./support/env.ts";
import { randomPrefix } from "./support/isolation.ts";

const services = testServices();
const { wsProxy } = services.postgres;

describe("a sandbox in its own schema", () => {
  it("creates beacon_sandbox_<random>, writes Beacon's tables only there, and drops it on close", async () => {
    const admin = createSqlPool({ connectionString: services.postgres.connectionString, wsProxy, max: 1 });
    const prefix = randomPrefix();
    try {
      const publicTables = async () => (await admin.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'")).rows[0].n;
      const before = await publicTables();
      const sandbox = await startSandbox({
        sql: { connectionString: services.postgres.connectionString, wsProxy }, redis: () => createDirectRedis(services),
        queueName: `${prefix}jobs`, redisKeyPrefix: prefix, ownSchema: true, sigBypass: true, executionDelayMs: 5, publisherIntervalMs: 25, workerIntervalMs: 25,
      });
      const schema = sandbox.ownSchema!;
      expect(schema).toMatch(/^beacon_sandbox_[0-9a-f]{10}$/);
      expect(new URL(sandbox.connectionString).searchParams.get("options")).toContain(`search_path=${schema}`);
      const spec = jobSpec();
      await submit(sandbox, spec);
      await waitForStatus(sandbox, String(spec["jobspec_id"]), "completed");
      const inSchema = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.jobs`);
      expect(inSchema.rows[0].n).toBe(1);
      expect(await publicTables()).toBe(before);
      await sandbox.close();
      expect((await admin.query("SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = $1", [schema])).rows[0].n).toBe(0);
      expect(await publicTables()).toBe(before);
    } finally {
      const redis = createDirectRedis(services);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      await closePool(admin);
    }
  });
});

describe("npx beacon-sentinel sandbox --reset", () => {
  let h: Harness;
  let s: Sandbox;
  let probePool: Pool;
  let sql: SqlClient;
  beforeAll(async () => {
    h = await createHarness();
    s = await h.start({ sigBypass: true });
    probePool = createSqlPool({ connectionString: h.db.connectionString, wsProxy, max: 2 });
    sql = createSqlClient(probePool, { statementTimeoutMs: 5_000 });
  });
  afterAll(async () => {
    await closePool(probePool);
    await h?.close();
  });

  const settings = Settings.parse({ probes: { outbox: { createdMaxSeconds: 60 } } });
  const run = (probe: typeof outboxProbe | typeof receiptsProbe): Promise<ProbeResult> =>
    runProbe(probe as typeof outboxProbe, { deps: { now: () => new Date(), fetch, log: silentLogger, sql }, settings, targets: { apiUrl: s.url, healthUrls: [] }, redact: (t) => t });
  const failing = (r: ProbeResult) => r.checks.filter((c) => c.status === "fail" || c.status === "error").map((c) => `${c.name}: ${c.evidence[0] ?? c.message}`);

  it("turns incidents off and deletes the stuck jobs, bad answers and dead letters they left, so the probes pass again", async () => {
    s.incidents.set("no-outbox-row", true);
    const stuck = jobSpec();
    await submit(s, stuck);
    await s.pool.query("UPDATE jobs SET created_at = created_at - interval '600 seconds', updated_at = updated_at - interval '600 seconds' WHERE jobspec_id = $1", [stuck["jobspec_id"]]);
    s.incidents.set("no-outbox-row", false);
    s.incidents.set("lost-answer", true);
    const lost = jobSpec({ questions: ["math_basic", "identity_basic"] });
    await submit(s, lost);
    await waitFor(async () => (await s.pool.query("SELECT status FROM jobs WHERE jobspec_id = $1", [lost["jobspec_id"]])).rows[0]?.status === "completed", "the lost-answer job");
    await h.redis.lpush(s.keys.dead, JSON.stringify({ id: "dead-1", jobspec_id: "", error: "job not found" }));

    // Switching the incident off undoes nothing already written.
    s.incidents.set("lost-answer", false);
    expect(failing(await run(outboxProbe))).toEqual([expect.stringMatching(new RegExp(`^jobs-stuck-created: job ${stuck["jobspec_id"]}: `))]);
    expect(failing(await run(receiptsProbe))).toEqual([expect.stringMatching(new RegExp(`^job-answers: job ${lost["jobspec_id"]}: no execution for `))]);

    s.incidents.set("worker-stopped", true);
    expect(await sandboxCommand(["--reset", "--url", s.url])).toBe(0);
    expect(s.incidents.list().filter((i) => i.on)).toEqual([]);
    expect(await h.redis.llen(s.keys.dead)).toBe(0);
    expect(failing(await run(outboxProbe))).toEqual([]);
    expect(failing(await run(receiptsProbe))).toEqual([]);
    const fresh = jobSpec();
    await submit(s, fresh);
    await waitForStatus(s, String(fresh["jobspec_id"]), "completed");
  });
});
