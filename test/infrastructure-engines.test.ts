import { connect } from "node:net";
import { Redis as UpstashRedis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePool, createSqlPool } from "../shared/db.ts";
import { isolatedDatabase, randomPrefix } from "./support/isolation.ts";
import { PGLITE_MAX_WAIT_MS } from "./support/pglite-server.ts";
import { postgresBinDir } from "./support/postgres-engines.ts";
import { localUser, onPath, probeTcp } from "./support/processes.ts";
import { startServices, type Services } from "./support/services.ts";

// The run's global setup uses whichever engines it finds first (usually the running servers). These
// prove the fallbacks a fresh machine would get, forced as SENTINEL_TEST_PG/SENTINEL_TEST_REDIS would.
const throwawayMissing =
  postgresBinDir() === undefined || onPath("redis-server") === undefined
    ? "no initdb/postgres or redis-server binaries"
    : process.getuid?.() === 0 && localUser("postgres") === undefined
      ? "running as root without a postgres account"
      : undefined;

const combinations = [
  { pg: "throwaway", redis: "throwaway", unavailable: throwawayMissing },
  { pg: "pglite", redis: "ioredis-mock", unavailable: undefined },
] as const;

describe.each(combinations)("engines postgres=$pg redis=$redis", ({ pg, redis, unavailable }) => {
  let services: Services;
  const log: string[] = [];
  beforeAll(async () => {
    if (unavailable !== undefined) return;
    const env = { ...process.env, SENTINEL_TEST_PG: pg, SENTINEL_TEST_REDIS: redis };
    const started = performance.now();
    services = await startServices({ env, log: (line) => log.push(line) });
    console.log(`${services.describe()} — up in ${Math.round(performance.now() - started)} ms`);
  }, 60_000);
  afterAll(async () => services?.close());

  it.skipIf(unavailable !== undefined)(`starts the forced engines and says so${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
    expect([services.postgres.engine, services.redis.engine]).toEqual([pg, redis]);
    expect(services.describe()).toMatch(new RegExp(`^postgres: ${pg} .*; redis: ${redis} `));
    expect(log.some((line) => line.startsWith(`postgres: using ${pg}`))).toBe(true);
  });

  it.skipIf(unavailable !== undefined)("queries, rolls back and isolates schemas and session settings", async () => {
    const [a, b] = [await isolatedDatabase(services), await isolatedDatabase(services)];
    const poolA = createSqlPool({ connectionString: a.connectionString, wsProxy: services.postgres.wsProxy, max: 2 });
    const poolB = createSqlPool({ connectionString: b.connectionString, wsProxy: services.postgres.wsProxy, max: 2 });
    try {
      await Promise.all([poolA.query("CREATE TABLE t (v int)"), poolB.query("CREATE TABLE t (v int)")]);
      const client = await poolA.connect();
      await client.query("BEGIN");
      await client.query("INSERT INTO t VALUES (1)");
      await client.query("ROLLBACK");
      client.release();
      await poolA.query("INSERT INTO t VALUES (2)");
      // A session setting made on one connection must not leak into another (PGlite is one session).
      await poolA.query("SET statement_timeout = 4321");
      const [rowsA, rowsB, timeoutB] = await Promise.all([
        poolA.query("SELECT v FROM t"),
        poolB.query("SELECT v FROM t"),
        poolB.query<{ statement_timeout: string }>("SHOW statement_timeout"),
      ]);
      expect([rowsA.rows, rowsB.rows, timeoutB.rows[0]?.statement_timeout]).toEqual([[{ v: 2 }], [], "0"]);
    } finally {
      await Promise.all([closePool(poolA), closePool(poolB)]);
      await Promise.all([a.drop(), b.drop()]);
    }
  });

  it.runIf(pg === "pglite")("answers a connection blocked by another's open transaction with an error, not a hang", async () => {
    const pool = createSqlPool({ connectionString: services.postgres.connectionString, wsProxy: services.postgres.wsProxy, max: 2, connectTimeoutMs: 30_000 });
    const holder = await pool.connect();
    try {
      await holder.query("BEGIN");
      const started = performance.now();
      await expect(pool.query("SELECT 1")).rejects.toMatchObject({ code: "55P03", message: expect.stringContaining(`waited ${PGLITE_MAX_WAIT_MS} ms`) });
      expect(performance.now() - started).toBeLessThan(PGLITE_MAX_WAIT_MS + 3000);
      await holder.query("ROLLBACK");
      expect((await pool.query("SELECT 2 AS n")).rows).toEqual([{ n: 2 }]); // the failed connection still works
    } finally {
      holder.release();
      await closePool(pool);
    }
  });

  it.skipIf(unavailable !== undefined)("hangs up on Terminate, as Postgres does (so driver users can exit)", async () => {
    const url = new URL(services.postgres.connectionString);
    const socket = connect(Number(url.port), "127.0.0.1");
    const params = Buffer.from("user\0postgres\0database\0postgres\0\0");
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + params.length);
    startup.writeInt32BE(196608, 4); // protocol 3.0
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    let terminated = false;
    socket.on("data", (chunk) => {
      // ReadyForQuery ('Z') ends the startup exchange; then say goodbye.
      if (!terminated && chunk.includes(0x5a)) socket.write(Buffer.from([0x58, 0, 0, 0, 4]), () => (terminated = true));
    });
    socket.write(Buffer.concat([startup, params]));
    await closed;
    expect(terminated).toBe(true);
  });

  it.skipIf(unavailable !== undefined)("round-trips Redis through the bridge and the direct client", async () => {
    const p = randomPrefix();
    const rest = new UpstashRedis({ url: services.redis.restUrl, token: services.redis.restToken, retry: false, enableTelemetry: false });
    const direct = services.redis.createClient();
    try {
      const tx = rest.multi();
      tx.set(`${p}k`, "v", { nx: true }).incr(`${p}n`);
      expect(await tx.exec()).toEqual(["OK", 1]);
      expect(await direct.mget(`${p}k`, `${p}n`)).toEqual(["v", "1"]);
      await direct.lpush(`${p}q`, "job");
      expect(await rest.lrange(`${p}q`, 0, -1)).toEqual(["job"]);
      await direct.del(`${p}k`, `${p}n`, `${p}q`);
    } finally {
      await direct.quit();
    }
  });

  it.skipIf(unavailable !== undefined)("stops everything it started on close", async () => {
    const pgPort = Number(new URL(services.postgres.connectionString).port);
    const bridgePort = Number(new URL(services.redis.restUrl).port);
    await services.close();
    await expect(probeTcp("127.0.0.1", pgPort)).rejects.toThrow(/nothing listening/);
    await expect(probeTcp("127.0.0.1", bridgePort)).rejects.toThrow(/nothing listening/);
  });
});
