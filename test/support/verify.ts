import { randomBytes } from "node:crypto";
import { Redis as UpstashRedis } from "@upstash/redis";
import { closePool, createSqlPool } from "../../shared/db.ts";
import { connectRedis } from "./redis-engines.ts";
import type { UpstashBridge } from "./upstash-bridge.ts";

/** One query through the ws proxy with the production driver: proves the whole Postgres path. */
export async function verifyPostgres(connectionString: string, wsProxy: string): Promise<void> {
  const pool = createSqlPool({ connectionString, wsProxy, max: 1 });
  try {
    const { rows } = await pool.query<{ ok: number }>("SELECT 1 AS ok");
    if (rows[0]?.ok !== 1) throw new Error(`SELECT 1 returned ${JSON.stringify(rows)}`);
  } finally {
    await closePool(pool);
  }
}

/** Writes through the Upstash client and reads back directly: proves both paths reach one data set. */
export async function verifyRedis(bridge: UpstashBridge, directUrl: string): Promise<void> {
  const key = `sentinel:verify:${randomBytes(6).toString("hex")}`;
  const rest = new UpstashRedis({ url: bridge.url, token: bridge.token, retry: false, enableTelemetry: false });
  const direct = connectRedis(directUrl);
  try {
    await rest.set(key, "ok", { px: 60_000 });
    const seen = await direct.get(key);
    if (seen !== "ok") throw new Error(`direct client read ${JSON.stringify(seen)} for a key set through the bridge`);
    await direct.del(key);
  } finally {
    direct.disconnect();
  }
}
