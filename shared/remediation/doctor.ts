import type { BeaconSettings } from "../beacon/settings.ts";
import type { SqlClient } from "../sql.ts";
import { QUESTION_ID_RUNNER } from "../beacon/question-column.ts";

/**
 * `beacon-sentinel doctor`: the indexes on Beacon's tables that the sentinel's statements rely on,
 * read from pg_indexes (read-only, one statement). An index counts when its leading columns are the
 * ones named, whatever it is called (a DBA may have built it under another name). Each one missing is
 * advised as `CREATE INDEX CONCURRENTLY`, with the statements it keeps bounded.
 * Also the columns the statements name that only a hand-applied migration adds (NEEDED_COLUMNS).
 * Measured at 10^5 jobs / 10^6 executions by test/bench/schema-scale.ts (figures in the README).
 */
export interface NeededIndex {
  table: "jobs" | "outbox" | "executions";
  columns: string[];
  /** Beacon's name for it (its migrations), used in the advice. */
  name: string;
  /** Where Beacon creates it. */
  origin: string;
  speedsUp: string;
}

export const NEEDED_INDEXES: readonly NeededIndex[] = [
  { table: "jobs", columns: ["jobspec_id"], name: "jobs_jobspec_id_key", origin: "0001 (UNIQUE)", speedsUp: "outbox probe (does a payload name a job), canary (its job's row)" },
  { table: "jobs", columns: ["status"], name: "idx_jobs_status", origin: "0004", speedsUp: "outbox probe's stuck states (created/processing/finalizing/running jobs)" },
  { table: "jobs", columns: ["status", "created_at"], name: "idx_jobs_status_created", origin: "0005", speedsUp: "regions probe's oldest queued jobs (restart-lost), stuck queued jobs" },
  { table: "jobs", columns: ["created_at"], name: "idx_jobs_created_at", origin: "0004", speedsUp: "regions probe's asked regions (jobs of the judging window)" },
  { table: "jobs", columns: ["updated_at"], name: "idx_jobs_updated_at", origin: "0004", speedsUp: "outbox probe's finished-jobs SLI, receipts probe's job answers, clock-skew check" },
  { table: "outbox", columns: ["published_at"], name: "idx_outbox_published_at", origin: "0004", speedsUp: "outbox probe's backlog count and oldest unpublished row" },
  { table: "outbox", columns: ["created_at"], name: "idx_outbox_created_at", origin: "0004", speedsUp: "outbox rows of stuck created jobs, canary's outbox row, clock-skew check" },
  { table: "executions", columns: ["job_id"], name: "idx_executions_job_id", origin: "0004", speedsUp: "executions per job (SLI start latency, job answers, canary, asked regions)" },
  { table: "executions", columns: ["status"], name: "idx_executions_status", origin: "0004", speedsUp: "outbox probe's executions left running" },
  { table: "executions", columns: ["created_at"], name: "idx_executions_created_at", origin: "0004", speedsUp: "regions probe's 24 h grid, clock-skew check on executions (created_at and started_at)" },
  {
    table: "executions", columns: ["job_id", "region", "model_id", "question_id"], name: "idx_executions_dedup_with_question",
    origin: "007_add_question_id_to_executions.sql (applied by hand; not in the numbered migrations)",
    speedsUp: "regions probe's asked regions (a job's execution in a region found in the index, without reading the rows); without it the probe reads each asked job's executions by job_id",
  },
];

export interface IndexFinding extends NeededIndex {
  present: boolean;
  /** The index found, when present. */
  found?: string;
  /** The table as configured (`beacon.tables`), maybe schema-qualified. */
  relation: string;
  advice?: string;
}

/**
 * Columns that Beacon's numbered migrations do not create: `question_id` comes only from the hand-applied
 * 007 file. Beacon's own runner needs it more than we do (question-column.ts): without it no execution
 * is stored. The sentinel's statements that read it run again without it and name the cause.
 */
export const NEEDED_COLUMNS = [
  {
    table: "executions" as const, column: "question_id", origin: "007_add_question_id_to_executions.sql (applied by hand)",
    breaks: `Beacon's runner itself, not only the sentinel (which names it in job-answers, jobs-api, the canary and load): ${QUESTION_ID_RUNNER}`,
    advice: (relation: string) => `ALTER TABLE ${relation} ADD COLUMN IF NOT EXISTS question_id VARCHAR(255);`,
  },
];

export interface ColumnFinding {
  relation: string;
  column: string;
  origin: string;
  breaks: string;
  advice: string;
}

export interface DoctorReport {
  ok: boolean;
  findings: IndexFinding[];
  /** Columns the statements name that are not there. */
  missingColumns: ColumnFinding[];
  /** Tables that do not exist where the sentinel looks for them. */
  missingTables: string[];
}

/** Leading columns of a pg_indexes.indexdef: "CREATE INDEX x ON s.t USING btree (a, b DESC)" -> [a, b]. */
export function indexColumns(indexdef: string): string[] {
  const m = /USING \w+ \((.*?)\)(?: INCLUDE| WHERE|$)/.exec(indexdef) ?? /\((.*)\)/.exec(indexdef);
  if (!m) return [];
  return m[1]!.split(",").map((c) => c.trim().replace(/\s+(ASC|DESC|NULLS FIRST|NULLS LAST).*$/i, "").replace(/^"(.*)"$/, "$1"));
}

export async function doctor(sql: SqlClient, tables: BeaconSettings["tables"]): Promise<DoctorReport> {
  const relations = [...new Set(NEEDED_INDEXES.map((n) => tables[n.table]))];
  const rows = await sql.query<{ relation: string; exists: boolean; indexname: string | null; indexdef: string | null; partial: boolean | null }>(
    `SELECT r.relation, to_regclass(r.relation) IS NOT NULL AS exists, i.indexname::text AS indexname, i.indexdef,
       i.indexdef ~ ' WHERE ' AS partial
     FROM unnest($1::text[]) r(relation)
     LEFT JOIN pg_indexes i ON to_regclass(r.relation) IS NOT NULL
       AND (quote_ident(i.schemaname) || '.' || quote_ident(i.tablename))::regclass = to_regclass(r.relation)`,
    [relations],
  );
  const missingTables = relations.filter((r) => rows.some((x) => x.relation === r && !x.exists));
  const findings = NEEDED_INDEXES.map((need): IndexFinding => {
    const relation = tables[need.table];
    // A partial index serves only its WHERE: it does not count.
    const match = rows.find((x) => x.relation === relation && x.indexdef && !x.partial
      && need.columns.every((c, i) => indexColumns(x.indexdef!)[i] === c));
    if (match) return { ...need, relation, present: true, found: match.indexname! };
    const advice = need.table === "jobs" && need.columns.join() === "jobspec_id"
      ? `CREATE UNIQUE INDEX CONCURRENTLY ${need.name} ON ${relation} (jobspec_id);`
      : `CREATE INDEX CONCURRENTLY ${need.name} ON ${relation} (${need.columns.join(", ")});`;
    return { ...need, relation, present: false, advice };
  });
  const columns = await sql.query<{ relation: string; column: string; present: boolean }>(
    `SELECT c.relation, c.col AS column, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(c.relation)
       AND a.attname = c.col AND NOT a.attisdropped) AS present
     FROM unnest($1::text[], $2::text[]) c(relation, col) WHERE to_regclass(c.relation) IS NOT NULL`,
    [NEEDED_COLUMNS.map((c) => tables[c.table]), NEEDED_COLUMNS.map((c) => c.column)],
  );
  const missingColumns = NEEDED_COLUMNS.flatMap((c): ColumnFinding[] => {
    const relation = tables[c.table];
    return columns.some((x) => x.relation === relation && x.column === c.column && !x.present)
      ? [{ relation, column: c.column, origin: c.origin, breaks: c.breaks, advice: c.advice(relation) }]
      : [];
  });
  return { ok: missingTables.length === 0 && missingColumns.length === 0 && findings.every((f) => f.present), findings, missingTables, missingColumns };
}

export function formatDoctor(r: DoctorReport, database: string): string {
  const lines = [`${database}: indexes the sentinel's statements rely on`];
  for (const t of r.missingTables) lines.push(`  MISSING TABLE ${t}: the probes that read it fail (check beacon.tables)`);
  for (const c of r.missingColumns) {
    lines.push(`  MISSING COLUMN ${c.relation}.${c.column} [Beacon: ${c.origin}]`, `           fails without it: ${c.breaks}`, `           ${c.advice}`);
  }
  for (const f of r.findings) {
    const what = `${f.relation} (${f.columns.join(", ")})`;
    if (f.present) lines.push(`  ok       ${what}: ${f.found}`);
    else lines.push(`  MISSING  ${what} [Beacon: ${f.origin}]`, `           speeds up: ${f.speedsUp}`, `           ${f.advice}`);
  }
  const missing = r.findings.filter((f) => !f.present).length;
  lines.push("", r.ok ? "all present" : `${missing} index${missing === 1 ? "" : "es"} missing${r.missingTables.length ? `, ${r.missingTables.length} table(s) missing` : ""}${r.missingColumns.length ? `, ${r.missingColumns.length} column(s) missing` : ""}: run the statements above on Beacon's database (CONCURRENTLY does not block the runner's writes)`);
  return lines.join("\n");
}
