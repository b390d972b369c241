import { randomBytes } from "node:crypto";
import { closePool, createSqlPool } from "../../shared/db.ts";

/** What isolatedDatabase needs: satisfied by both Services and the injected TestServices. */
export interface PostgresTarget {
  postgres: { connectionString: string; wsProxy: string };
}

export interface IsolatedDatabase {
  /** Connection string whose sessions resolve unqualified names in `schema` only. */
  connectionString: string;
  schema: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/**
 * Gives a test file its own schema on the shared test database. The schema is selected by the
 * startup parameter `options=-c search_path=<schema>` in the connection string: Postgres applies it
 * to every session before the first query, so any Pool built from the string (however many
 * connections it opens) is isolated, with no per-connection hook. Verified through the ws proxy
 * with the Neon driver on Postgres 15 and on PGlite. `public` is deliberately left out of the path:
 * a table missing from the test schema must fail, not silently resolve to a shared one.
 */
export async function isolatedDatabase(services: PostgresTarget): Promise<IsolatedDatabase> {
  const { connectionString, wsProxy } = services.postgres;
  const schema = `t_${randomBytes(6).toString("hex")}`;
  const admin = createSqlPool({ connectionString, wsProxy, max: 1 });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await closePool(admin);
  }
  const url = new URL(connectionString);
  const existing = url.searchParams.get("options");
  url.searchParams.set("options", `${existing ? `${existing} ` : ""}-c search_path=${schema}`);
  return {
    connectionString: url.toString(),
    schema,
    async drop() {
      const pool = createSqlPool({ connectionString, wsProxy, max: 1 });
      try {
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await closePool(pool);
      }
    },
  };
}

/** A fresh Redis key prefix (e.g. "t3f9a1c2b:") so test files never see each other's keys. */
export function randomPrefix(): string {
  return `t${randomBytes(4).toString("hex")}:`;
}
