/**
 * Returning the sandbox to a green pipeline (`POST /__sandbox/reset`, `npx beacon-sentinel sandbox --reset`):
 * every incident off, Beacon's tables emptied in the sandbox's own schema, its queue keys deleted.
 * Not a Beacon route. What it cannot undo (the sentinel's own results, alert state and silences) is
 * listed in test/sandbox/README.md.
 */
import type { SandboxContext } from "./context.ts";

export interface ResetReport {
  incidentsCleared: string[];
  rowsDeleted: { jobs: number; executions: number; outbox: number; idempotency_keys: number };
  redisKeysDeleted: number;
}

/** Cost: one TRUNCATE of six tables, one SCAN pass per key pattern, one DEL per batch of keys. */
export async function resetSandbox(ctx: SandboxContext): Promise<ResetReport> {
  const incidentsCleared = ctx.incidents.list().filter((i) => i.on).map((i) => i.name);
  ctx.incidents.reset();
  const counts = await ctx.pool.query<{ jobs: number; executions: number; outbox: number; idempotency_keys: number }>(
    `SELECT (SELECT count(*)::int FROM jobs) AS jobs, (SELECT count(*)::int FROM executions) AS executions,
       (SELECT count(*)::int FROM outbox) AS outbox, (SELECT count(*)::int FROM idempotency_keys) AS idempotency_keys`,
  );
  // Unqualified names: the sandbox's search_path, i.e. its own schema (never another's tables).
  await ctx.pool.query("TRUNCATE executions, outbox, idempotency_keys, region_results, cross_region_executions, jobs RESTART IDENTITY CASCADE");
  let redisKeysDeleted = 0;
  const exact = [ctx.keys.main, ctx.keys.retry, ctx.keys.dead];
  redisKeysDeleted += exact.length ? await ctx.redis.del(...exact) : 0;
  for (const pattern of [ctx.keys.processingPattern, `${ctx.options.redisKeyPrefix}job:processing:*`]) {
    let cursor = "0";
    do {
      const [next, keys] = await ctx.redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      if (keys.length) redisKeysDeleted += await ctx.redis.del(...keys);
    } while (cursor !== "0");
  }
  return { incidentsCleared, rowsDeleted: counts.rows[0]!, redisKeysDeleted };
}
