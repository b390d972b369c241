import type { Pool, PoolClient } from "@neondatabase/serverless";

/** The narrow SQL interface probes use: parameterised, read-only, time-bounded queries. */
export interface SqlClient {
  query<T extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /**
   * Proves the database answers, at the cost of no statement of its own when it can: on a connection it
   * opened, the answer to that connection's set-up statement is the proof; on one already used, `SELECT 1`.
   * Says which. Absent: the caller runs `SELECT 1` itself.
   */
  ping?(): Promise<"set-up" | "SELECT 1">;
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
  // Each new connection's set-up, until a ping takes its answer as the proof that the database answers.
  const setUps = new WeakMap<PoolClient, Promise<unknown>>();
  pool.on("connect", (client: PoolClient) => {
    const setUp = client
      // One statement, not three SETs: every statement is work on Beacon's database (sentinel cost counts it).
      // jit off: the probes' statements are small, but a window the planner cannot size (a range from a
      // CTE's now()) is costed at a third of the table, over jit_above_cost, and compiling took 1.5 s of
      // the regions statement's 1.6 s at 10^6 executions (test/bench/schema-scale.ts). work_mem 16MB:
      // the regions grid's group sort spilled at the default 4MB.
      .query(`SELECT set_config('default_transaction_read_only', 'on', false), set_config('statement_timeout', '${timeout}', false), set_config('TimeZone', 'UTC', false), set_config('jit', 'off', false), set_config('work_mem', '16MB', false)`);
    setUp.catch(() => {
      /* the next query on this client fails with the real cause */
    });
    setUps.set(client, setUp);
  });
  return {
    async query(text, params) {
      const result = await pool.query(text, params);
      return result.rows as never;
    },
    async ping() {
      const client = await pool.connect();
      let broken: unknown;
      try {
        const setUp = setUps.get(client);
        if (setUp) {
          setUps.delete(client);
          await setUp;
          return "set-up";
        }
        await client.query("SELECT 1 AS ok");
        return "SELECT 1";
      } catch (error) {
        broken = error;
        throw error;
      } finally {
        // A connection whose set-up or ping failed is not handed to the next query.
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
  };
}

/**
 * Several read-only statements sent as one: `run` issues its queries on a recording client, and they are
 * sent together as ONE statement, each as a jsonb array column of a single-row SELECT (parameters
 * renumbered), so each caller gets its rows as before and the database runs one statement, not N.
 * Values arrive as JSON: numbers, strings, booleans, null, objects (no query here returns a timestamp or
 * a bigint). If the statement fails, every query fails with its error.
 */
export async function oneStatement<T>(sql: SqlClient, run: (client: SqlClient) => T): Promise<T> {
  const calls: { text: string; params: unknown[]; resolve(rows: never): void; reject(error: unknown): void }[] = [];
  const recorder: SqlClient = {
    query: (text, params = []) => new Promise((resolve, reject) => void calls.push({ text, params, resolve: resolve as (rows: never) => void, reject })),
  };
  const out = run(recorder);
  const params: unknown[] = [];
  const columns = calls.map((c, i) => {
    const offset = params.length;
    params.push(...c.params);
    const text = c.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    return `(SELECT COALESCE(jsonb_agg(to_jsonb(q)), '[]'::jsonb) FROM (${text}) q) AS r${i}`;
  });
  try {
    const [row] = await sql.query<Record<string, unknown>>(`SELECT ${columns.join(",\n")}`, params);
    calls.forEach((c, i) => c.resolve((row?.[`r${i}`] ?? []) as never));
  } catch (error) {
    for (const c of calls) c.reject(error);
  }
  return out;
}
