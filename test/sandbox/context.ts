/** Options, defaults and the dependency bag shared by the sandbox's HTTP handlers and loops. */
import type { Pool } from "@neondatabase/serverless";
import type { Redis } from "ioredis";
import type { Incidents } from "./incidents.ts";
import type { Metrics } from "./metrics.ts";
import type { ReceiptVariant } from "./receipts.ts";

/** One entry of Beacon's trusted-keys file (`TRUSTED_KEYS_JSON`). */
export interface TrustedKey {
  kid: string;
  /** base64 of the raw 32-byte Ed25519 public key. */
  public_key: string;
  status: "active" | "revoked";
  /** RFC3339; before it the key is `not_yet_valid`. */
  not_before?: string;
  /** RFC3339; after it the key is `expired`. */
  not_after?: string;
}

export interface SandboxOptions {
  /** Postgres through the Neon driver (shared/db.ts `createSqlPool`); `wsProxy` is `host:port` of a local WS proxy. */
  sql: { connectionString: string; wsProxy?: string };
  /** A native Redis client, or a factory (the sandbox then owns and closes the client). */
  redis: Redis | (() => Redis);
  /** `JOBS_QUEUE_NAME`. Default "jobs"; tests pass e.g. "t1a2b:jobs". Retry/dead/processing keys derive from it. */
  queueName?: string;
  /**
   * Prefix for the Redis keys Beacon does NOT derive from the queue name (`job:processing:<id>`,
   * `nonce:*`, `rate_limit:*`). Default "" (Beacon's keys); tests pass their random prefix.
   */
  redisKeyPrefix?: string;
  /** `ADMIN_TOKEN`; unset: every /admin route answers 503 admin_auth_not_configured. */
  adminToken?: string;
  /** `TRUSTED_KEYS_JSON`; unset: no allowlist (trust evaluation skipped). */
  trustedKeys?: TrustedKey[];
  /** `TRUST_ENFORCE`; default true when trustedKeys is given, else false. Also enables timestamp/nonce checks. */
  trustEnforce?: boolean;
  /** `RUNNER_SIG_BYPASS`: skip Ed25519 verification. Default false. */
  sigBypass?: boolean;
  /** 0 = a random free port (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Publisher sleep after a pass that published nothing, ms. Default 500 (Beacon's). */
  publisherIntervalMs?: number;
  /** Worker poll interval while the queue is empty, ms. Default 200 (Beacon blocks in BRPOP instead). */
  workerIntervalMs?: number;
  /** Simulated inference time per execution, ms. Default 2000. */
  executionDelayMs?: number;
  /** Delay before any execution starts under the `slow-worker` incident, ms. Default 150000 (> 2 min). */
  slowWorkerDelayMs?: number;
  /** Admin rate limit window per client IP, ms. Default 10000 (one request per 10 s). */
  adminRateLimitMs?: number;
  /** Retry delay unit of the advanced queue (`1 min × attempts`), ms. Default 60000. */
  retryDelayMs?: number;
  /** Nonce TTL in Redis (`TIMESTAMP_MAX_AGE`), seconds. Default 600. */
  nonceTtlSeconds?: number;
  /** Receipt `output.data` shape: "direct", "golem", or "alternate" between them (default). */
  receiptVariant?: "direct" | "golem" | "alternate";
  /** "per-question" (default): one execution row per region × model × question; "per-region": one multi-question row. */
  executionGranularity?: "per-question" | "per-region";
  /**
   * The hybrid-router path (`executor_hybrid.go`), the one production runs: one execution per region ×
   * model × question, the answer in `output_data` as `{response, provider, metadata}` and Modal's
   * receipt (see `hybridReceipt`) as `receipt_data`. Default false (the container path: a signed
   * classic receipt per execution).
   */
  hybridPath?: boolean;
  /**
   * What Modal sends back on the hybrid path: "modal" (default: the current deployment, whose receipt
   * the executor stores as `receipt_data` and inside `output_data.metadata`) or "none" (an older Modal:
   * `receipt_data` NULL, the answer only in `output_data`).
   */
  hybridReceipt?: "modal" | "none";
  /**
   * The runner's HTTP client timeout on the router (`HYBRID_ROUTER_TIMEOUT`, 300 s), ms. Under
   * `router-hang:<region>` each of the four inference paths waits this long, then the row fails with
   * `ROUTER_NETWORK`. Default 300000.
   */
  routerClientTimeoutMs?: number;
  /**
   * `StartWorker` (`internal/queue/redis.go`) alternates, when idle, between the advanced Dequeue (1 s
   * BRPOP, then the retry set) and a simple 1 s BRPOP whose handler errors are ignored: a message
   * arriving while idle is taken by either, so a failed job is dead-lettered only when the advanced one
   * took it. true: model the alternation (after every empty advanced poll, the next poll is the simple
   * one's). Default false: every message goes through the advanced Dequeue, so tests that need a dead
   * letter get one (see the fidelity table).
   */
  idleFallback?: boolean;
  /** The timeout worker (`cmd/runner/main.go:228-239`): jobs `processing` longer than this are marked `failed`, ms. Default 15 min. */
  jobTimeoutMs?: number;
  /** How often the timeout worker looks, ms. Default 2 min. */
  jobTimeoutIntervalMs?: number;
  /** Startup recovery: at a (re)start, jobs `processing` longer than this go back to `created` (no outbox row), ms. Default 10 min. */
  startupRecoveryMs?: number;
  /**
   * `STRICT_COMPLETION_BARRIER=1`: before marking a job completed, count its persisted executions
   * with Beacon's own query (string spec id against the integer `job_id`, whose error is ignored, so the
   * count is 0) and leave the job in `finalizing` when fewer than expected. Default false.
   */
  strictCompletionBarrier?: boolean;
  /** Create Beacon's schema if absent (idempotent). Default true. */
  migrate?: boolean;
  /**
   * Create a schema of its own (`beacon_sandbox_<random>`) in the given database, put Beacon's tables
   * there, and drop it on close, leaving the database as found. `Sandbox.connectionString` then points
   * at that schema: give it to the sentinel as BEACON_DATABASE_URL. Default false (the connection
   * string's own search_path, as the test harness isolates it).
   */
  ownSchema?: boolean;
}

export type ResolvedOptions = Required<Omit<SandboxOptions, "sql" | "redis" | "adminToken" | "trustedKeys" | "ownSchema">> &
  Pick<SandboxOptions, "adminToken" | "trustedKeys">;

export function resolveOptions(opts: SandboxOptions): ResolvedOptions {
  return {
    queueName: opts.queueName ?? "jobs",
    redisKeyPrefix: opts.redisKeyPrefix ?? "",
    adminToken: opts.adminToken,
    trustedKeys: opts.trustedKeys,
    trustEnforce: opts.trustEnforce ?? opts.trustedKeys !== undefined,
    sigBypass: opts.sigBypass ?? false,
    port: opts.port ?? 0,
    host: opts.host ?? "127.0.0.1",
    publisherIntervalMs: opts.publisherIntervalMs ?? 500,
    workerIntervalMs: opts.workerIntervalMs ?? 200,
    executionDelayMs: opts.executionDelayMs ?? 2000,
    slowWorkerDelayMs: opts.slowWorkerDelayMs ?? 150_000,
    adminRateLimitMs: opts.adminRateLimitMs ?? 10_000,
    retryDelayMs: opts.retryDelayMs ?? 60_000,
    nonceTtlSeconds: opts.nonceTtlSeconds ?? 600,
    receiptVariant: opts.receiptVariant ?? "alternate",
    executionGranularity: opts.hybridPath ? "per-question" : (opts.executionGranularity ?? "per-question"),
    hybridPath: opts.hybridPath ?? false,
    hybridReceipt: opts.hybridReceipt ?? "modal",
    routerClientTimeoutMs: opts.routerClientTimeoutMs ?? 300_000,
    idleFallback: opts.idleFallback ?? false,
    jobTimeoutMs: opts.jobTimeoutMs ?? 15 * 60_000,
    jobTimeoutIntervalMs: opts.jobTimeoutIntervalMs ?? 2 * 60_000,
    startupRecoveryMs: opts.startupRecoveryMs ?? 10 * 60_000,
    strictCompletionBarrier: opts.strictCompletionBarrier ?? false,
    migrate: opts.migrate ?? true,
  };
}

/** Beacon's Redis keys for one queue name (contract sheet §3). */
export function queueKeys(queueName: string) {
  return {
    main: queueName,
    retry: `${queueName}:retry`,
    dead: `${queueName}:dead`,
    processing: (messageId: string) => `${queueName}:processing:${messageId}`,
    processingPattern: `${queueName}:processing:*`,
  };
}

export interface SandboxContext {
  options: ResolvedOptions;
  pool: Pool;
  redis: Redis;
  metrics: Metrics;
  incidents: Incidents;
  keys: ReturnType<typeof queueKeys>;
  /** False when the database cannot be used: database-less mode, or `database-down` (lost while running). */
  dbAvailable(): boolean;
  /**
   * Database-less mode (`cmd/runner/main.go`): the startup ping failed, or `database-less` is on. The
   * runner has no DB handle: `/health/ready` pings nothing and answers ready, the cross-region route is
   * not registered (`internal/api/routes.go:101-136,174-177`).
   */
  databaseLess(): boolean;
  /** Key pair the simulated executor signs receipts with. */
  receiptKeys: { privateKey: string; publicKey: string };
  nextVariant(): ReceiptVariant;
}
