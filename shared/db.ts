import { Client, Pool, type ClientConfig } from "@neondatabase/serverless";
import ws from "ws";

/** How to reach Postgres through the Neon serverless driver. */
export interface SqlPoolOptions {
  /** A `postgres://` URL. In production, the Neon connection string. */
  connectionString: string;
  /**
   * `host:port` of a plain-WebSocket-to-TCP proxy (local dev and tests only; see
   * test/support/ws-proxy.ts). Unset: the driver's defaults, i.e. real Neon over `wss://`.
   */
  wsProxy?: string;
  /** Maximum open connections. Default: the driver's (10). */
  max?: number;
  /** Give up opening a connection after this many ms, so a silent database is a failed check, not a hung probe. Default 10000. */
  connectTimeoutMs?: number;
}

/** Builds a Neon `Pool`; connections open lazily, on the first query. */
export function createSqlPool(opts: SqlPoolOptions): Pool {
  const pool = new Pool({
    connectionString: opts.connectionString,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    ...(opts.max === undefined ? {} : { max: opts.max }),
  });
  // Per-pool, not global: mutating `neonConfig` would silently point every other pool in the
  // process (the production one included) at the local proxy. The driver reads its socket settings
  // per connection (`client.neonConfig` falls back to the global defaults), but Neon's Pool
  // overwrites the `Client` option after construction, so the subclass is installed afterwards.
  if (opts.wsProxy !== undefined) pool.Client = localProxyClient(opts.wsProxy);
  return pool;
}

/** Ends every connection of the pool; safe to call twice. */
export async function closePool(pool: Pool): Promise<void> {
  if (pool.ending || pool.ended) return;
  await pool.end();
}

function localProxyClient(proxy: string): typeof Client {
  return class LocalProxyClient extends Client {
    constructor(config?: string | ClientConfig) {
      super(config);
      const settings = this.neonConfig;
      settings.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`;
      // The proxy speaks ws://, and plain Postgres has no TLS to pipeline.
      settings.useSecureWebSocket = false;
      settings.pipelineTLS = false;
      // Pipelining the password with the startup message is a Neon-proxy feature; a real Postgres
      // reads the early password frame as a bogus message ("invalid frontend message type 112").
      settings.pipelineConnect = false;
      // Node 22 has a global WebSocket, but `ws` is what the driver is tested with on Node.
      settings.webSocketConstructor = ws;
    }
  };
}
