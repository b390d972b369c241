/**
 * SQL for jobs, outbox and idempotency keys, mirroring `internal/store/jobs_repo.go`,
 * `outbox_repo.go`, `idempotency_repo.go` and `internal/service/jobs.go`.
 */
import type { Pool, PoolClient } from "@neondatabase/serverless";
import { goTime } from "./go-struct.ts";

/** `to_char` pattern: TIMESTAMP (no zone, written in UTC) as text, microseconds kept. */
export const tsText = (column: string): string => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

/** Go's RFC3339Nano for a UTC timestamp text from `tsText` ("" for NULL). */
export function rfc3339Nano(text: string | null): string {
  if (text === null) return "";
  const [seconds, fraction = ""] = text.split(".");
  const trimmed = fraction.replace(/0+$/, "");
  return `${seconds}${trimmed ? `.${trimmed}` : ""}Z`;
}

/** Go's `t.Format(time.RFC3339)` for a UTC timestamp text ("" for NULL, as the handlers do). */
export function rfc3339(text: string | null): string {
  return text === null ? "" : `${text.split(".")[0]}Z`;
}

/** The flat outbox envelope (`JobsService.CreateJob`); Go marshals map keys sorted. */
export function outboxEnvelope(jobspecId: string, now: Date, requestId: string): string {
  return JSON.stringify({ attempt: 0, enqueued_at: goTime(now), id: jobspecId, request_id: requestId });
}

async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL READ COMMITTED");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export interface CreateJobInput {
  jobspecId: string;
  jobspecData: Record<string, unknown>;
  topic: string;
  /** The outbox payload; undefined writes no outbox row (the `no-outbox-row` incident). */
  envelope: string | undefined;
  idempotencyKey?: string;
}

/**
 * `CreateJob` / `IdempotentCreateJob`: upsert the job as `created`, record the key, insert the outbox
 * row, all in one transaction. Returns the existing job id when the key was already used.
 */
export async function createJob(pool: Pool, input: CreateJobInput): Promise<{ id: string; reused: boolean }> {
  if (input.idempotencyKey !== undefined) {
    const found = await pool.query<{ jobspec_id: string }>("SELECT jobspec_id FROM idempotency_keys WHERE idem_key = $1", [input.idempotencyKey]);
    const existing = found.rows[0]?.jobspec_id;
    if (existing) return { id: existing, reused: true };
  }
  await inTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO jobs (jobspec_id, jobspec_data, status) VALUES ($1, $2, 'created')
       ON CONFLICT (jobspec_id) DO UPDATE SET jobspec_data = EXCLUDED.jobspec_data, status = EXCLUDED.status, updated_at = NOW()`,
      [input.jobspecId, JSON.stringify(input.jobspecData)],
    );
    if (input.idempotencyKey !== undefined) {
      await client.query("INSERT INTO idempotency_keys (idem_key, jobspec_id) VALUES ($1, $2)", [input.idempotencyKey, input.jobspecId]);
    }
    if (input.envelope !== undefined) {
      await client.query("INSERT INTO outbox (topic, payload) VALUES ($1, $2)", [input.topic, input.envelope]);
    }
  });
  return { id: input.jobspecId, reused: false };
}

/** `RepublishJob`: an outbox row only; the job's status is not touched. */
export async function insertOutbox(pool: Pool, topic: string, envelope: string): Promise<void> {
  await inTransaction(pool, (client) => client.query("INSERT INTO outbox (topic, payload) VALUES ($1, $2)", [topic, envelope]));
}

export interface JobRow {
  jobspecId: string;
  status: string;
  data: Record<string, unknown>;
  createdAt: string;
}

export async function getJob(pool: Pool, jobspecId: string): Promise<JobRow | undefined> {
  const { rows } = await pool.query<{ jobspec_id: string; status: string; jobspec_data: Record<string, unknown>; created_at: string | null }>(
    `SELECT jobspec_id, status, jobspec_data, ${tsText("created_at")} AS created_at FROM jobs WHERE jobspec_id = $1`,
    [jobspecId],
  );
  const row = rows[0];
  return row && { jobspecId: row.jobspec_id, status: row.status, data: row.jobspec_data, createdAt: rfc3339Nano(row.created_at) };
}

/** `ListRecentJobs`: newest first. */
export async function listRecentJobs(pool: Pool, limit: number): Promise<{ jobspecId: string; status: string; createdAt: string }[]> {
  const { rows } = await pool.query<{ jobspec_id: string; status: string; created_at: string | null }>(
    `SELECT jobspec_id, status, ${tsText("created_at")} AS created_at FROM jobs ORDER BY created_at DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ jobspecId: r.jobspec_id, status: r.status, createdAt: rfc3339Nano(r.created_at) }));
}

/** `ListJobsByStatus`: the stored JobSpecs, newest first. */
export async function listJobsByStatus(pool: Pool, status: string, limit: number): Promise<Record<string, unknown>[]> {
  const { rows } = await pool.query<{ jobspec_data: Record<string, unknown> }>(
    "SELECT jobspec_data FROM jobs WHERE status = $1 ORDER BY created_at DESC LIMIT $2",
    [status, limit],
  );
  return rows.map((r) => r.jobspec_data);
}

/** `UpdateJobStatus`: fails with "job not found: <id>" when no row matched. */
export async function updateJobStatus(pool: Pool, jobspecId: string, status: string): Promise<void> {
  const result = await pool.query("UPDATE jobs SET status = $1, updated_at = NOW() WHERE jobspec_id = $2", [status, jobspecId]);
  if (result.rowCount === 0) throw new Error(`job not found: ${jobspecId}`);
}

export interface OutboxRow {
  id: string;
  topic: string;
  /** The JSONB as Postgres prints it: what Beacon's publisher pushes verbatim. */
  payload: string;
}

/** `FetchUnpublished`: no row locking, oldest first. */
export async function fetchUnpublished(pool: Pool, limit: number): Promise<OutboxRow[]> {
  const { rows } = await pool.query<OutboxRow>(
    "SELECT id::text AS id, topic, payload::text AS payload FROM outbox WHERE published_at IS NULL ORDER BY id ASC LIMIT $1",
    [limit],
  );
  return rows;
}

export async function markPublished(pool: Pool, id: string): Promise<void> {
  await pool.query("UPDATE outbox SET published_at = NOW() WHERE id = $1", [id]);
}

/** `GetUnpublishedStats`: count and age in seconds of the oldest unpublished row (0 when none). */
export async function outboxStats(pool: Pool): Promise<{ count: number; oldestAgeSeconds: number }> {
  const { rows } = await pool.query<{ count: string; age: number | null }>(
    "SELECT COUNT(*)::text AS count, EXTRACT(EPOCH FROM (NOW() - MIN(created_at)))::float8 AS age FROM outbox WHERE published_at IS NULL",
  );
  return { count: Number(rows[0]?.count ?? 0), oldestAgeSeconds: Math.max(0, rows[0]?.age ?? 0) };
}
