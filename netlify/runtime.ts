import { Redis } from "@upstash/redis";
import { loadConfig, type Config } from "../shared/config/index.ts";
import { createSqlPool } from "../shared/db.ts";
import { createSqlClient } from "../shared/sql.ts";
import { createKeys } from "../shared/store/keys.ts";
import { createTickStore, type LedgerCopy, type TickStore } from "../shared/tick/store.ts";
import { probeInfos } from "../shared/config/policy.ts";
import { createClaims } from "../shared/store/claims.ts";
import { createRedactor, safeUrl, type Redactor } from "../shared/redact.ts";
import { createConsoleLogger, type Logger } from "../shared/log.ts";
import type { ProbeDeps, ProbeTargets } from "../shared/probes/types.ts";

/** Everything an invocation needs, built from the environment once per cold start. */
export interface Runtime {
  config: Config;
  deps: ProbeDeps;
  targets: ProbeTargets;
  /** The tick's memory and the status document; absent when no store is configured (dry runs). */
  store?: TickStore;
  storeRedis?: Redis;
  /** The ledger's durable copy (netlify/ledger-copy.ts), set by the scheduled tick on Netlify; absent: none is kept. */
  ledgerCopy?: LedgerCopy;
  redact: Redactor;
  log: Logger;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  requireStore?: boolean;
  /** False for commands that never call Beacon (`sentinel cost` reading the store's sizes). */
  requireBeacon?: boolean;
  now?: () => Date;
  fetch?: typeof fetch;
  log?: Logger;
  /** Retries of the Upstash clients on network errors (default 1; tests use 0). */
  redisRetries?: number;
  ledgerCopy?: LedgerCopy;
}

export function createRuntime(env: Record<string, string | undefined>, options: RuntimeOptions = {}): Runtime {
  const config = loadConfig(env, { requireStore: options.requireStore, requireBeacon: options.requireBeacon });
  const redact = createRedactor(config.secrets);
  const log = options.log ?? createConsoleLogger(redact);
  const db = config.settings.beacon.database;
  // One connection: the probes of a tick share it (their statements queue on it), so a tick opens at
  // most one connection on Beacon's database (the pool closes it idle between ticks; sentinel cost counts it).
  const pool = config.database ? createSqlPool({ ...config.database, max: 1, connectTimeoutMs: db.connectTimeoutMs }) : undefined;
  // Every store request is bounded: a store that accepts connections and never answers costs
  // storeTimeoutMs per attempt, never the function's whole life.
  const timeoutMs = config.settings.tick.storeTimeoutMs;
  const beaconRedis = config.beaconRedis ? upstash(config.beaconRedis, options.redisRetries, timeoutMs) : undefined;
  const storeRedis = config.store ? upstash(config.store, options.redisRetries, timeoutMs) : undefined;
  const deps: ProbeDeps = {
    now: options.now ?? (() => new Date()),
    fetch: options.fetch ?? globalThis.fetch,
    log,
    sql: pool ? createSqlClient(pool, { statementTimeoutMs: db.statementTimeoutMs }) : undefined,
    beaconRedis,
    claims: storeRedis && config.store ? createClaims(storeRedis, createKeys(config.store.keyPrefix)) : undefined,
  };
  const targets: ProbeTargets = {
    apiUrl: config.beaconApiUrl,
    portalUrl: config.portalUrl,
    routerUrl: config.routerUrl,
    healthUrls: config.healthUrls,
    databaseLabel: config.database ? databaseLabel(config.database.connectionString) : undefined,
    redisLabel: config.beaconRedis ? safeUrl(config.beaconRedis.url) : undefined,
    beaconAdminToken: config.beaconAdminToken,
    canarySigningKey: config.canarySigningKey,
  };
  return {
    config, deps, targets, redact, log, storeRedis, ledgerCopy: options.ledgerCopy,
    store: storeRedis && config.store ? createTickStore(storeRedis, createKeys(config.store.keyPrefix), { infos: probeInfos(config.settings), staleFactor: config.settings.alerting.staleFactor }) : undefined,
    async close() {
      await pool?.end();
    },
  };
}

/**
 * Values come back as stored: the sentinel decides per call site what is JSON. Each request gets its
 * own timeout signal; one retry on a network error, after 200 ms. Replies come as JSON text, not
 * base64 (`responseEncoding: false`): everything the sentinel stores is text (its documents are
 * already base64 gzip), and base64 on top made every read a third larger: ~300 MB a month at the
 * state's size.
 */
function upstash({ url, token }: { url: string; token: string }, retries = 1, timeoutMs: number): Redis {
  const retry = retries === 0 ? (false as const) : { retries, backoff: () => 200 };
  return new Redis({ url, token, automaticDeserialization: false, responseEncoding: false, enableTelemetry: false, retry, signal: () => AbortSignal.timeout(timeoutMs) });
}

/** host/database of a connection string, without user or password. */
function databaseLabel(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `postgres://${url.host}${url.pathname}`;
  } catch {
    return "postgres";
  }
}
