import type { Pool, PoolClient } from "@neondatabase/serverless";

/** The narrow SQL interface probes use: parameterised, read-only, time-bounded queries. */
export interface SqlClient {
  query<T extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface SqlClientOptions {
  /** Per-statement limit, so that a slow Beacon database turns into a failed check, not a hung probe. */
  statementTimeoutMs: number;
}

/**
 * Wraps a pool so every connection is read-only, time-bounded and in UTC (set with one statement when it opens). Beacon's timestamps are
 * `TIMESTAMP without time zone` written by NOW() on a UTC server, so the session zone must be UTC for
 * `now() - created_at` to mean what it says.
 */
export function createSqlClient(pool: Pool, options: SqlClientOptions): SqlClient {
  const timeout = Math.max(1, Math.floor(options.statementTimeoutMs));
  pool.on("connect", (client: PoolClient) => {
    client
      // One statement, not three SETs: every statement is work on Beacon's database (sentinel cost counts it).
      .query(`SELECT set_config('default_transaction_read_only', 'on', false), set_config('statement_timeout', '${timeout}', false), set_config('TimeZone', 'UTC', false)`)
      .catch(() => {
        /* the next query on this client fails with the real cause */
      });
  });
  return {
    async query(text, params) {
      const result = await pool.query(text, params);
      return result.rows as never;
    },
  };
}
