import type { Pool } from "@neondatabase/serverless";
import type { Redis as UpstashRedis } from "@upstash/redis";
import type { Redis } from "ioredis";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePool, createSqlPool } from "../shared/db.ts";
import { createDirectRedis, createUpstashClient, testServices } from "./support/env.ts";
import { isolatedDatabase, randomPrefix, type IsolatedDatabase } from "./support/isolation.ts";

const services = testServices();
const { wsProxy } = services.postgres;

describe(`Postgres through the Neon driver and the ws proxy (${services.postgres.engine})`, () => {
  let db: IsolatedDatabase;
  let pool: Pool;
  beforeAll(async () => {
    db = await isolatedDatabase(services);
    pool = createSqlPool({ connectionString: db.connectionString, wsProxy, max: 10 });
    await pool.query("CREATE TABLE jobs (id serial PRIMARY KEY, name text NOT NULL)");
  });
  afterAll(async () => {
    await closePool(pool);
    await db.drop();
  });

  it("runs parameterised queries", async () => {
    await pool.query("INSERT INTO jobs (name) VALUES ($1), ($2)", ["a", "b"]);
    const { rows } = await pool.query<{ name: string }>("SELECT name FROM jobs WHERE name = ANY($1) ORDER BY name", [["a", "b"]]);
    expect(rows.map((r) => r.name)).toEqual(["a", "b"]);
  });

  it("rolls a transaction back and commits another", async () => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("INSERT INTO jobs (name) VALUES ('rolled-back')");
      await client.query("ROLLBACK");
      await client.query("BEGIN");
      await client.query("INSERT INTO jobs (name) VALUES ('committed')");
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const { rows } = await pool.query<{ name: string }>("SELECT name FROM jobs WHERE name IN ('rolled-back', 'committed')");
    expect(rows).toEqual([{ name: "committed" }]);
  });

  it("serves 20 parallel queries on a pool of 10", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.query<{ n: number }>("SELECT $1::int * 2 AS n", [i])));
    expect(results.map((r) => r.rows[0]?.n)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
  });

  it("isolates two schemas by search_path, even with the same table names", async () => {
    const other = await isolatedDatabase(services);
    const otherPool = createSqlPool({ connectionString: other.connectionString, wsProxy, max: 3 });
    try {
      await otherPool.query("CREATE TABLE jobs (id int, name text)");
      await otherPool.query("INSERT INTO jobs VALUES (1, 'only-in-other')");
      await otherPool.query("CREATE TABLE private_table (x int)");
      const [mine, theirs] = await Promise.all([
        pool.query<{ schema: string }>("SELECT current_schema() AS schema"),
        otherPool.query<{ name: string }>("SELECT name FROM jobs"),
      ]);
      expect(mine.rows[0]?.schema).toBe(db.schema);
      expect(theirs.rows).toEqual([{ name: "only-in-other" }]);
      await expect(pool.query("SELECT * FROM private_table")).rejects.toMatchObject({ code: "42P01" });
    } finally {
      await closePool(otherPool);
      await other.drop();
    }
  });

  it("refuses to proxy to a non-loopback host", async () => {
    const remote = createSqlPool({ connectionString: "postgresql://postgres@10.255.255.1:5432/postgres", wsProxy, max: 1 });
    try {
      await expect(remote.query("SELECT 1")).rejects.toThrow(/403/);
    } finally {
      await closePool(remote);
    }
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`ws://${wsProxy}/v1?address=example.com:5432`);
      socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      socket.on("open", () => reject(new Error("proxy accepted a non-loopback target")));
      socket.on("error", () => {});
    });
    expect(status).toBe(403);
  });
});

describe(`Redis through the Upstash client and the REST bridge (${services.redis.engine})`, () => {
  const p = randomPrefix();
  let redis: UpstashRedis;
  let direct: Redis;
  beforeAll(() => {
    redis = createUpstashClient();
    direct = createDirectRedis();
  });
  afterAll(async () => {
    const keys = await direct.keys(`${p}*`);
    if (keys.length > 0) await direct.del(...keys);
    await direct.quit();
  });

  it("runs a pipeline, reporting a failed command in place", async () => {
    const pipe = redis.pipeline();
    pipe.set(`${p}counter`, 1).incrby(`${p}counter`, 4).lpush(`${p}counter`, "x").get(`${p}counter`);
    const results = await pipe.exec({ keepErrors: true });
    expect(results.map((r) => r.result)).toEqual(["OK", 5, undefined, 5]);
    expect(results[2]?.error).toMatch(/^WRONGTYPE/);
  });

  it("runs multi-exec as a transaction", async () => {
    const tx = redis.multi();
    tx.set(`${p}tx`, "a").append(`${p}tx`, "b").get(`${p}tx`);
    expect(await tx.exec()).toEqual(["OK", 2, "ab"]);
  });

  it.each([
    ["unicode and control characters", "héllo ☃ 😀 \u0000\u0001\r\n\t end"],
    ["a value that looks like base64", "T0s="],
    ["the literal OK", "OK"],
    ["an empty string", ""],
  ])("round-trips %s through base64 encoding", async (_name, value) => {
    await redis.set(`${p}text`, value);
    expect(await redis.get(`${p}text`)).toBe(value);
  });

  it.skipIf(services.redis.engine === "ioredis-mock")("returns arbitrary bytes exactly in base64 mode (not on ioredis-mock: it stores JS strings)", async () => {
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0a]);
    await direct.set(`${p}bytes`, bytes);
    const res = await rest(["GET", `${p}bytes`], { "Upstash-Encoding": "base64" });
    expect(Buffer.from(((await res.json()) as { result: string }).result, "base64")).toEqual(bytes);
  });

  it("serves lists, sorted sets, hashes and expiries", async () => {
    await redis.rpush(`${p}list`, "b", "c");
    await redis.lpush(`${p}list`, "a");
    expect(await redis.lrange(`${p}list`, 0, -1)).toEqual(["a", "b", "c"]);
    expect([await redis.llen(`${p}list`), await redis.lindex(`${p}list`, 1)]).toEqual([3, "b"]);
    await redis.zadd(`${p}z`, { score: 2.5, member: "late" }, { score: 1, member: "early" });
    expect(await redis.zrange(`${p}z`, 0, -1, { withScores: true })).toEqual(["early", 1, "late", 2.5]);
    expect(await redis.zrange(`${p}z`, 2, "+inf", { byScore: true })).toEqual(["late"]);
    expect(await redis.zcard(`${p}z`)).toBe(2);
    await redis.hset(`${p}h`, { runs: 1, name: "probe" });
    expect(await redis.hincrby(`${p}h`, "runs", 2)).toBe(3);
    expect(await redis.hgetall(`${p}h`)).toEqual({ runs: 3, name: "probe" });
    expect(await redis.set(`${p}lock`, "me", { nx: true, px: 60_000 })).toBe("OK");
    expect(await redis.set(`${p}lock`, "you", { nx: true, ex: 60 })).toBeNull();
    expect(await redis.expire(`${p}list`, 100)).toBe(1);
    expect(await redis.pexpire(`${p}z`, 100_000)).toBe(1);
    expect(await redis.ttl(`${p}list`)).toBeGreaterThan(90);
    expect(await redis.eval("return redis.call('GET', KEYS[1])", [`${p}lock`], [])).toBe("me");
  });

  it("scans with MATCH and COUNT", async () => {
    await Promise.all(Array.from({ length: 15 }, (_, i) => redis.set(`${p}scan:${i}`, i)));
    const seen = new Set<string>();
    let cursor: string | number = 0;
    do {
      const [next, keys]: [string | number, string[]] = await redis.scan(cursor, { match: `${p}scan:*`, count: 5 });
      keys.forEach((k) => seen.add(k));
      cursor = next;
    } while (String(cursor) !== "0");
    expect(seen.size).toBe(15);
  });

  it("serves streams with MAXLEN trimming and exclusive-range cursors", async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push(await redis.xadd(`${p}s`, "*", { n }, { trim: { type: "MAXLEN", threshold: 2, comparison: "=" } }));
    expect(await redis.xlen(`${p}s`)).toBe(2);
    expect(Object.values(await redis.xrange(`${p}s`, "-", "+"))).toEqual([{ n: 2 }, { n: 3 }]);
    // A reader that remembers the last id it saw resumes after it with "(id".
    expect(Object.keys(await redis.xrange(`${p}s`, `(${ids[1]}`, "+"))).toEqual([ids[2]]);
    expect(Object.keys(await redis.xrevrange(`${p}s`, "+", "-", 1))).toEqual([ids[2]]);
  });

  it("shares its data with the direct client", async () => {
    await redis.set(`${p}shared`, "from-rest");
    expect(await direct.get(`${p}shared`)).toBe("from-rest");
    await direct.rpush(`${p}queue`, "job-1");
    expect(await redis.rpop(`${p}queue`)).toBe("job-1");
  });

  it("rejects a bad token with 401, a bad command and a blocking one with 400", async () => {
    expect((await rest(["PING"], {}, "wrong-token")).status).toBe(401);
    const bad = await rest(["NOSUCHCOMMAND"]);
    expect([bad.status, typeof ((await bad.json()) as { error?: unknown }).error]).toEqual([400, "string"]);
    const blocking = await rest(["BRPOP", `${p}queue`, "1"]);
    expect(blocking.status).toBe(400);
    expect(((await blocking.json()) as { error: string }).error).toMatch(/BRPOP is not supported/);
  });
});

function rest(command: unknown[], headers: Record<string, string> = {}, token = services.redis.restToken): Promise<Response> {
  return fetch(services.redis.restUrl, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(command),
  });
}
