import type { Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../netlify/cli/main.ts";
import { closePool, createSqlPool } from "../shared/db.ts";
import { NEEDED_INDEXES, indexColumns } from "../shared/remediation/doctor.ts";
import { migrate } from "./sandbox/schema.sql.ts";
import { testServices } from "./support/env.ts";
import { isolatedDatabase, type IsolatedDatabase } from "./support/isolation.ts";

const services = testServices();
const ADVICE_007 = "CREATE INDEX CONCURRENTLY idx_executions_dedup_with_question ON executions (job_id, region, model_id, question_id);";

/** `beacon-sentinel doctor` in this process against a schema of its own, through the Neon driver and the ws proxy. */
describe("beacon-sentinel doctor on Beacon's schema (as the sandbox creates it)", () => {
  let db: IsolatedDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await isolatedDatabase(services);
    pool = createSqlPool({ connectionString: db.connectionString, wsProxy: services.postgres.wsProxy, max: 1 });
    await migrate(pool);
  });
  afterAll(async () => {
    await closePool(pool);
    await db?.drop();
  });

  async function doctor(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    vi.stubEnv("BEACON_DATABASE_URL", db.connectionString);
    vi.stubEnv("NEON_WS_PROXY", services.postgres.wsProxy);
    const o = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
    const e = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (err.push(String(chunk)), true));
    try {
      return { code: await main(["doctor", ...args]), stdout: out.join(""), stderr: err.join("") };
    } finally {
      o.mockRestore();
      e.mockRestore();
      vi.unstubAllEnvs();
    }
  }

  it("exits 0 when every index the statements rely on exists, listing each one found", async () => {
    const out = await doctor();
    expect(out.code).toBe(0);
    expect(out.stdout).not.toMatch(/MISSING|CREATE INDEX/);
    expect(out.stdout.match(/^ {2}ok {7}/gm)).toHaveLength(NEEDED_INDEXES.length);
    expect(out.stdout).toContain("  ok       executions (job_id, region, model_id, question_id): idx_executions_dedup_with_question");
    expect(out.stdout.trimEnd().split("\n").at(-1)).toBe("all present");
  });

  it("without 007's index: exit 1 and the CREATE INDEX CONCURRENTLY advice with what it speeds up; the advice, run, makes it exit 0", async () => {
    await pool.query("DROP INDEX idx_executions_dedup_with_question");
    const out = await doctor();
    expect(out.code).toBe(1);
    expect(out.stdout.match(/^ {2}MISSING/gm)).toHaveLength(1);
    expect(out.stdout).toContain("  MISSING  executions (job_id, region, model_id, question_id) [Beacon: 007_add_question_id_to_executions.sql");
    expect(out.stdout).toMatch(/speeds up: regions probe's asked regions/);
    expect(out.stdout).toContain(`           ${ADVICE_007}\n`);
    expect(out.stdout).toMatch(/1 index missing: run the statements above/);
    const json = JSON.parse((await doctor("--json")).stdout) as { ok: boolean; findings: { name: string; present: boolean; advice?: string }[] };
    expect(json.ok).toBe(false);
    expect(json.findings.filter((f) => !f.present)).toEqual([expect.objectContaining({ name: "idx_executions_dedup_with_question", advice: ADVICE_007 })]);
    // Without CONCURRENTLY here: that waits for every older transaction in the whole database, and the
    // test database is shared with other test files.
    await pool.query(ADVICE_007.replace(" CONCURRENTLY", ""));
    expect((await doctor()).code).toBe(0);
  });

  it("counts an index by its columns, not its name, and not a partial index or one in another order", async () => {
    await pool.query("DROP INDEX idx_executions_created_at");
    await pool.query("CREATE INDEX exec_created_recent ON executions (created_at) WHERE status = 'running'");
    await pool.query("CREATE INDEX exec_status_created ON executions (status, created_at)");
    const missing = await doctor();
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain("CREATE INDEX CONCURRENTLY idx_executions_created_at ON executions (created_at);");
    await pool.query("CREATE INDEX dba_named_it ON executions (created_at DESC)");
    const found = await doctor();
    expect(found.code).toBe(0);
    expect(found.stdout).toContain("  ok       executions (created_at): dba_named_it");
  });

  it("a table that is not there is named, with exit 1", async () => {
    vi.stubEnv("SENTINEL_SETTINGS", JSON.stringify({ beacon: { tables: { outbox: "no_such_outbox" } } }));
    const out = await doctor();
    expect(out.code).toBe(1);
    expect(out.stdout).toContain("  MISSING TABLE no_such_outbox");
    expect(out.stdout).toContain("CREATE INDEX CONCURRENTLY idx_outbox_published_at ON no_such_outbox (published_at);");
  });

  it("a database where 007 never ran (no question_id): the column and its index are advised, naming what fails without it", async () => {
    await pool.query("ALTER TABLE executions DROP COLUMN question_id"); // drops 007's index with it
    const out = await doctor();
    expect(out.code).toBe(1);
    expect(out.stdout).toContain("  MISSING COLUMN executions.question_id [Beacon: 007_add_question_id_to_executions.sql (applied by hand)]");
    expect(out.stdout).toMatch(/fails without it: Beacon's runner itself, not only the sentinel \(which names it in job-answers, jobs-api, the canary and load\): Beacon's runner names the column in every execution INSERT \(ra\/internal\/store\/executions_repo.go:326\), so it stores no execution on either path/);
    expect(out.stdout).toContain("ALTER TABLE executions ADD COLUMN IF NOT EXISTS question_id VARCHAR(255);");
    expect(out.stdout).toContain(ADVICE_007);
    expect(out.stdout).toMatch(/1 index missing, 1 column\(s\) missing: run the statements above/);
  });

  it("reads an index definition's leading columns", () => {
    expect(indexColumns("CREATE INDEX a ON s.executions USING btree (job_id, created_at DESC)")).toEqual(["job_id", "created_at"]);
    expect(indexColumns("CREATE UNIQUE INDEX jobs_jobspec_id_key ON public.jobs USING btree (jobspec_id)")).toEqual(["jobspec_id"]);
    expect(indexColumns("CREATE INDEX p ON t USING btree (status, retry_count) WHERE ((status)::text = 'failed'::text)")).toEqual(["status", "retry_count"]);
  });
});
