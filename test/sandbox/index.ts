/**
 * The local Beacon sandbox: a runnable stand-in for Beacon's Go runner (jamie-anson/Project-Beacon,
 * runner-app/) with its schema, outbox publisher, Redis queue worker, HTTP API and known defects,
 * plus switchable incidents. Data flow, as in Beacon:
 *   POST /api/v1/jobs → jobs row + outbox row (one tx) → publisher RPUSH → worker RPOP → executions.
 * See test/sandbox/README.md for the decisions taken where the contract sheet is uncertain.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Pool, PoolClient } from "@neondatabase/serverless";
import type { Redis } from "ioredis";
import { generateKeyPair } from "../../shared/beacon/signing.ts";
import { closePool, createSqlPool } from "../../shared/db.ts";
import { queueKeys, resolveOptions, type SandboxContext, type SandboxOptions } from "./context.ts";
import { createHttpServer } from "./http.ts";
import { createIncidents, type Incidents } from "./incidents.ts";
import { createLoop } from "./loop.ts";
import { Metrics } from "./metrics.ts";
import { createPublisherPass } from "./publisher.ts";
import { adminRoutes } from "./routes-admin.ts";
import { executionRoutes } from "./routes-executions.ts";
import { jobRoutes } from "./routes-jobs.ts";
import { opsRoutes } from "./routes-ops.ts";
import { createJobRunner } from "./runner.ts";
import { createCrossRegion } from "./cross-region.ts";
import { migrate } from "./schema.sql.ts";
import { createWorkerPass } from "./worker.ts";

export type { SandboxOptions, TrustedKey } from "./context.ts";
export { INCIDENT_NAMES, INCIDENTS, type IncidentName, type Incidents, type IncidentState } from "./incidents.ts";

export interface Sandbox {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  /** The database the sandbox writes, search_path included: what BEACON_DATABASE_URL should be. */
  connectionString: string;
  /** The schema it created (ownSchema), dropped on close; undefined when it uses the given search_path. */
  ownSchema?: string;
  incidents: Incidents;
  /** The sandbox's own pool (search_path as in the connection string). */
  pool: Pool;
  redis: Redis;
  queueName: string;
  /** Beacon's queue keys for `queueName`: main list, retry ZSET, dead list, processing-key pattern. */
  keys: { main: string; retry: string; dead: string; processingPattern: string };
  metrics: Metrics;
  /** Public key (base64 raw) the simulated executor signs receipts with. */
  receiptPublicKey: string;
  /** True when the startup database ping failed: database-less mode whatever the incidents say. */
  databaseless: boolean;
  /**
   * The runner process restarting: cross-region jobs in flight (in-process goroutines) are lost and
   * stay `queued`; the queue job in hand is dropped mid-run; `process_start_time_seconds` moves
   * forward; then startup recovery (`cmd/runner/main.go:228-233`, `service/job_recovery.go:28-38`) puts
   * jobs `processing` for over `startupRecoveryMs` back to `created`, without an outbox row. The queue
   * and the database survive. Resolves with the jobs recovery reset.
   */
  restartRunner(): Promise<string[]>;
  /**
   * One pass of the timeout worker (`worker/job_timeout_worker.go`, `service/job_timeout.go`): jobs
   * `processing` for over `jobTimeoutMs` are marked `failed`; their run goes on and may still complete
   * them. It also runs every `jobTimeoutIntervalMs`. Resolves with the jobs it failed.
   */
  runTimeoutWorker(): Promise<string[]>;
  /** Cross-region runs in flight. */
  crossRegionInFlight(): number;
  /** Waits until publisher and worker both sit idle with no work done in between (default timeout 30 s). */
  drain(opts?: { timeoutMs?: number }): Promise<void>;
  /** Stops loops and HTTP server, ends the pool, quits Redis if the sandbox created it. Idempotent. */
  close(): Promise<void>;
}

async function pingDatabase(pool: Pool, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const ping = pool.query("SELECT 1").then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Creates `beacon_sandbox_<random>` and returns it with a connection string whose sessions use only it. */
async function createOwnSchema(sql: SandboxOptions["sql"]): Promise<{ schema: string; connectionString: string; drop(): Promise<void> }> {
  const schema = `beacon_sandbox_${randomBytes(5).toString("hex")}`;
  const admin = () => createSqlPool({ connectionString: sql.connectionString, ...(sql.wsProxy ? { wsProxy: sql.wsProxy } : {}), max: 1 });
  const pool = admin();
  try {
    await pool.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await closePool(pool);
  }
  const url = new URL(sql.connectionString);
  const existing = url.searchParams.get("options");
  url.searchParams.set("options", `${existing ? `${existing} ` : ""}-c search_path=${schema}`);
  return {
    schema,
    connectionString: url.toString(),
    async drop() {
      const dropper = admin();
      try {
        await dropper.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await closePool(dropper);
      }
    },
  };
}

export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const options = resolveOptions(opts);
  const own = opts.ownSchema ? await createOwnSchema(opts.sql) : undefined;
  const connectionString = own?.connectionString ?? opts.sql.connectionString;
  const pool = createSqlPool({ connectionString, ...(opts.sql.wsProxy ? { wsProxy: opts.sql.wsProxy } : {}), max: 5 });
  // TIMESTAMP columns hold UTC wall time (Beacon runs in UTC): pin the session zone for NOW().
  pool.on("connect", (client: PoolClient) => void client.query("SET TIME ZONE 'UTC'").catch(() => undefined));
  pool.on("error", () => undefined); // an idle client dying must not crash the process
  const ownsRedis = typeof opts.redis === "function";
  const redis = typeof opts.redis === "function" ? opts.redis() : opts.redis;

  const databaseless = !(await pingDatabase(pool, 5000));
  if (!databaseless && options.migrate) {
    try {
      await migrate(pool);
    } catch (error) {
      await closePool(pool);
      await own?.drop().catch(() => undefined);
      throw error;
    }
  }

  const incidents = createIncidents();
  const controller = new AbortController();
  let variantCounter = 0;
  const ctx: SandboxContext = {
    options,
    pool,
    redis,
    metrics: new Metrics(),
    incidents,
    keys: queueKeys(options.queueName),
    dbAvailable: () => !databaseless && !incidents.isOn("database-less") && !incidents.isOn("database-down"),
    databaseLess: () => databaseless || incidents.isOn("database-less"),
    receiptKeys: generateKeyPair(),
    nextVariant: () => {
      if (options.receiptVariant !== "alternate") return options.receiptVariant;
      return variantCounter++ % 2 === 0 ? "direct" : "golem";
    },
  };

  const logError = (name: string) => (error: unknown) => {
    console.error(`[sandbox:${name}]`, error instanceof Error ? error.message : error);
    return 1000;
  };
  const publisher = createLoop("publisher", createPublisherPass(ctx), controller.signal, logError("publisher"));
  const runner = createJobRunner(ctx);
  let runnerProcess = new AbortController();
  const worker = createLoop("worker", createWorkerPass(ctx, runner, () => runnerProcess.signal), controller.signal, logError("worker"));
  const statusSweep = (to: "failed" | "created", olderThanMs: number) => async (): Promise<string[]> => {
    if (!ctx.dbAvailable()) return [];
    const { rows } = await pool.query<{ jobspec_id: string }>(
      `UPDATE jobs SET status = $1, updated_at = NOW() WHERE status = 'processing' AND updated_at < NOW() - make_interval(secs => $2) RETURNING jobspec_id`,
      [to, olderThanMs / 1000],
    );
    return rows.map((r) => r.jobspec_id);
  };
  const timeoutStuckJobs = statusSweep("failed", options.jobTimeoutMs);
  const recoverStaleJobs = statusSweep("created", options.startupRecoveryMs);
  const timeoutWorker = createLoop("timeout-worker", async () => {
    await timeoutStuckJobs();
    return options.jobTimeoutIntervalMs;
  }, controller.signal, logError("timeout-worker"));
  const crossRegion = createCrossRegion(ctx, runner, controller.signal);
  const server = createHttpServer([...crossRegion.routes, ...jobRoutes(ctx), ...executionRoutes(ctx), ...adminRoutes(ctx), ...opsRoutes(ctx)], ctx.metrics);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  publisher.start();
  worker.start();
  timeoutWorker.start();
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`,
    connectionString,
    ...(own ? { ownSchema: own.schema } : {}),
    incidents,
    pool,
    redis,
    queueName: options.queueName,
    keys: { main: ctx.keys.main, retry: ctx.keys.retry, dead: ctx.keys.dead, processingPattern: ctx.keys.processingPattern },
    metrics: ctx.metrics,
    receiptPublicKey: ctx.receiptKeys.publicKey,
    databaseless,
    async restartRunner() {
      crossRegion.restart();
      runnerProcess.abort(new Error("runner restarted"));
      runnerProcess = new AbortController();
      return recoverStaleJobs();
    },
    runTimeoutWorker: () => timeoutStuckJobs(),
    crossRegionInFlight: () => crossRegion.inFlight(),
    async drain({ timeoutMs = 30_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      const work = () => publisher.busyPasses() + worker.busyPasses();
      for (;;) {
        const before = work();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()))));
        const result = await Promise.race([Promise.all([publisher.waitIdle(), worker.waitIdle()]), timedOut]);
        clearTimeout(timer);
        if (result === "timeout") throw new Error(`sandbox did not drain within ${timeoutMs} ms`);
        if (work() === before) return;
      }
    },
    close() {
      closing ??= (async () => {
        controller.abort(new Error("sandbox closed"));
        await Promise.all([publisher.stop(), worker.stop(), timeoutWorker.stop(), crossRegion.settle()]);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        if (ownsRedis) await redis.quit().catch(() => redis.disconnect());
        await closePool(pool);
        await own?.drop();
      })();
      return closing;
    },
  };
}
