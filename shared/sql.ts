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
 * Wraps a pool so every connection is read-only, time-bounded, in UTC and without JIT (set with one statement when it opens). Beacon's timestamps are
 * `TIMESTAMP without time zone` written by NOW() on a UTC server, so the session zone must be UTC for
 * `now() - created_at` to mean what it says.
 */
export function createSqlClient(pool: Pool, options: SqlClientOptions): SqlClient {
  const timeout = Math.max(1, Math.floor(options.statementTimeoutMs));
  pool.on("connect", (client: PoolClient) => {
    client
      // One statement, not three SETs: every statement is work on Beacon's database (sentinel cost counts it).
      // jit off: the probes' statements are small, but a window the planner cannot size (a range from a
      // CTE's now()) is costed at a third of the table, over jit_above_cost, and compiling took 1.5 s of
      // the regions statement's 1.6 s at 10^6 executions (test/bench/schema-scale.ts). work_mem 16MB:
      // the regions grid's group sort spilled at the default 4MB.
      .query(`SELECT set_config('default_transaction_read_only', 'on', false), set_config('statement_timeout', '${timeout}', false), set_config('TimeZone', 'UTC', false), set_config('jit', 'off', false), set_config('work_mem', '16MB', false)`)
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
