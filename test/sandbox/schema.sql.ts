/**
 * Beacon's Postgres schema, as the runner's migrations leave it (`runner-app/migrations/0001`..`0010`
 * plus the inline `db.go` columns), reduced to the tables the job pipeline touches. Table names are
 * unqualified: callers isolate by `search_path`. Every statement is idempotent.
 *
 * Decision on `chk_jobs_status` (contract sheet §1, [uncertain]): migration 0004 allows
 * created/queued/running/completed/failed/cancelled, yet the JobRunner writes `processing` (and the
 * strict barrier `finalizing`). Production evidently runs the pipeline, so the sandbox adds those
 * two values; with 0004's list verbatim every pickup would fail on the CHECK.
 * `chk_executions_status` gets `retrying` for the same reason: a user retry writes it
 * (`retry_service.go:145-175`); otherwise 0004's list is kept.
 * `executions.cross_region_execution_id` is kept without its foreign key (Beacon's INSERT never sets it).
 * The cross-region tables (0007) are there because the portal path keeps a failed region's cause only in them.
 */
import type { Pool } from "@neondatabase/serverless";

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS jobs (
  id SERIAL PRIMARY KEY,
  jobspec_id VARCHAR(255) UNIQUE NOT NULL,
  jobspec_data JSONB NOT NULL,
  status VARCHAR(50) DEFAULT 'queued',
  created_at TIMESTAMP DEFAULT NOW(),
  updated_at TIMESTAMP DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS executions (
  id SERIAL PRIMARY KEY,
  job_id INTEGER REFERENCES jobs(id),
  provider_id VARCHAR(255) NOT NULL,
  region VARCHAR(100) NOT NULL,
  status VARCHAR(50) DEFAULT 'pending',
  started_at TIMESTAMP,
  completed_at TIMESTAMP,
  output_data JSONB,
  receipt_data JSONB,
  created_at TIMESTAMP DEFAULT NOW()
);
ALTER TABLE executions ADD COLUMN IF NOT EXISTS ipfs_cid VARCHAR(100);
ALTER TABLE executions ADD COLUMN IF NOT EXISTS ipfs_pinned_at TIMESTAMP;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS region_claimed TEXT;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS region_observed TEXT;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS region_verified BOOLEAN;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS verification_method TEXT;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS preflight_evidence_ref TEXT;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS cross_region_execution_id UUID;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS model_id VARCHAR(50) DEFAULT 'llama3.2-1b';
ALTER TABLE executions ADD COLUMN IF NOT EXISTS question_id VARCHAR(255);
ALTER TABLE executions ADD COLUMN IF NOT EXISTS is_substantive BOOLEAN DEFAULT FALSE;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS is_content_refusal BOOLEAN DEFAULT FALSE;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS is_technical_error BOOLEAN DEFAULT FALSE;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS response_classification VARCHAR(50) DEFAULT 'unknown';
ALTER TABLE executions ADD COLUMN IF NOT EXISTS response_length INT DEFAULT 0;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS system_prompt TEXT;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS retry_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS max_retries INTEGER NOT NULL DEFAULT 3;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS last_retry_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS retry_history JSONB DEFAULT '[]'::jsonb;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS original_error TEXT;

CREATE TABLE IF NOT EXISTS outbox (
  id BIGSERIAL PRIMARY KEY,
  topic TEXT NOT NULL,
  payload JSONB NOT NULL,
  created_at TIMESTAMP DEFAULT NOW(),
  published_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS idempotency_keys (
  id SERIAL PRIMARY KEY,
  idem_key TEXT NOT NULL,
  jobspec_id TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- migrations/0007_cross_region_executions.up.sql:6-39,58-65: the portal path's record of a run and of each region.
CREATE TABLE IF NOT EXISTS cross_region_executions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  jobspec_id VARCHAR(255) NOT NULL,
  total_regions INTEGER NOT NULL,
  success_count INTEGER NOT NULL DEFAULT 0,
  failure_count INTEGER NOT NULL DEFAULT 0,
  min_regions_required INTEGER NOT NULL DEFAULT 3,
  min_success_rate DECIMAL(3,2) NOT NULL DEFAULT 0.67,
  status VARCHAR(50) NOT NULL DEFAULT 'running',
  started_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  completed_at TIMESTAMP WITH TIME ZONE,
  duration_ms BIGINT,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE TABLE IF NOT EXISTS region_results (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  cross_region_execution_id UUID NOT NULL REFERENCES cross_region_executions(id) ON DELETE CASCADE,
  region VARCHAR(100) NOT NULL,
  provider_id VARCHAR(255),
  provider_info JSONB,
  status VARCHAR(50) NOT NULL,
  started_at TIMESTAMP WITH TIME ZONE NOT NULL,
  completed_at TIMESTAMP WITH TIME ZONE,
  duration_ms BIGINT,
  execution_output JSONB,
  error_message TEXT,
  scoring JSONB,
  metadata JSONB,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS idx_cross_region_executions_jobspec_id ON cross_region_executions(jobspec_id);
CREATE INDEX IF NOT EXISTS idx_cross_region_executions_created_at ON cross_region_executions(created_at);
CREATE INDEX IF NOT EXISTS idx_region_results_cross_region_execution_id ON region_results(cross_region_execution_id);

CREATE INDEX IF NOT EXISTS idx_jobs_status ON jobs(status);
CREATE INDEX IF NOT EXISTS idx_jobs_created_at ON jobs(created_at);
CREATE INDEX IF NOT EXISTS idx_jobs_updated_at ON jobs(updated_at);
CREATE INDEX IF NOT EXISTS idx_jobs_jobspec_data_gin ON jobs USING GIN(jobspec_data);
CREATE INDEX IF NOT EXISTS idx_jobs_status_created ON jobs(status, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_executions_job_id ON executions(job_id);
CREATE INDEX IF NOT EXISTS idx_executions_status ON executions(status);
CREATE INDEX IF NOT EXISTS idx_executions_region ON executions(region);
CREATE INDEX IF NOT EXISTS idx_executions_created_at ON executions(created_at);
CREATE INDEX IF NOT EXISTS idx_executions_job_created_desc ON executions(job_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_executions_job_status_created ON executions(job_id, status, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_executions_ipfs_cid ON executions(ipfs_cid) WHERE ipfs_cid IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_executions_model_id ON executions(model_id);
CREATE INDEX IF NOT EXISTS idx_executions_model_region ON executions(model_id, region);
CREATE INDEX IF NOT EXISTS idx_executions_dedup_with_question ON executions(job_id, region, model_id, question_id);
CREATE INDEX IF NOT EXISTS idx_executions_classification ON executions(response_classification);
CREATE INDEX IF NOT EXISTS idx_executions_retry_count ON executions(retry_count);
CREATE INDEX IF NOT EXISTS idx_executions_status_retry ON executions(status, retry_count) WHERE status IN ('failed', 'timeout', 'error');
CREATE INDEX IF NOT EXISTS idx_outbox_published_at ON outbox(published_at);
CREATE INDEX IF NOT EXISTS idx_outbox_topic ON outbox(topic);
CREATE INDEX IF NOT EXISTS idx_outbox_created_at ON outbox(created_at);
CREATE UNIQUE INDEX IF NOT EXISTS uq_idempotency_keys_key ON idempotency_keys (idem_key);
CREATE INDEX IF NOT EXISTS idx_idempotency_keys_job ON idempotency_keys (jobspec_id);

DO $$ BEGIN
  ALTER TABLE jobs ADD CONSTRAINT chk_jobs_status
    CHECK (status IN ('created', 'queued', 'processing', 'finalizing', 'running', 'completed', 'failed', 'cancelled'));
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
  ALTER TABLE executions DROP CONSTRAINT IF EXISTS chk_executions_status;
  ALTER TABLE executions ADD CONSTRAINT chk_executions_status
    CHECK (status IN ('pending', 'running', 'retrying', 'completed', 'failed', 'cancelled'));
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
`;

/** Creates the schema if absent, serialised per schema so that concurrent sandboxes don't race. */
export async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext(current_schema()))");
    await client.query(SCHEMA_SQL);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
