import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { externalPostgres, pglitePostgres, throwawayPostgres, type PostgresEngine, type PostgresInstance } from "./postgres-engines.ts";
import { connectRedis, externalRedis, mockRedis, throwawayRedis, type RedisEngine, type RedisInstance } from "./redis-engines.ts";
import { startUpstashBridge, type UpstashBridge } from "./upstash-bridge.ts";
import { verifyPostgres, verifyRedis } from "./verify.ts";
import { startWsProxy, type WsProxy } from "./ws-proxy.ts";

/** Local stand-ins for Neon and Upstash, reachable only through the production clients' protocols. */
export interface Services {
  postgres: { connectionString: string; wsProxy: string; engine: PostgresEngine };
  redis: {
    restUrl: string;
    restToken: string;
    engine: RedisEngine;
    /** `redis://` URL of the same data for any process (for ioredis-mock, a RESP shim over it). */
    directUrl: string;
    /** A direct client to the same data, for the Beacon sandbox (Beacon's runner uses Redis natively). */
    createClient(): Redis;
  };
  /** One line naming the engines, e.g. "postgres: external 127.0.0.1:5432 (via ws proxy :41234); redis: ...". */
  describe(): string;
  close(): Promise<void>;
}

export interface StartServicesOptions {
  log?: (line: string) => void;
  /** Read for SENTINEL_TEST_PG(_URL), SENTINEL_TEST_REDIS(_URL), PG*. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

const PG_ENGINES = ["external", "throwaway", "pglite"] as const;
const REDIS_ENGINES = ["external", "throwaway", "ioredis-mock"] as const;
/** Above any pool a test opens (pglite-socket refuses connections past this). */
const PGLITE_MAX_CONNECTIONS = 100;

/**
 * Starts the first engine that works, per service: a server already running, else a throwaway
 * instance from local binaries, else an embedded one. SENTINEL_TEST_PG / SENTINEL_TEST_REDIS force
 * one engine (and fail loudly if it cannot start). Every choice is verified end to end through the
 * production clients before this resolves.
 */
export async function startServices(opts: StartServicesOptions = {}): Promise<Services> {
  const log = opts.log ?? (() => {});
  const env = opts.env ?? process.env;
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch((e: unknown) => log(`close failed: ${String(e)}`));
  };
  try {
    const proxy = await startWsProxy();
    closers.push(() => proxy.close());
    const pg = await firstWorking("postgres", forced(env.SENTINEL_TEST_PG, PG_ENGINES, "SENTINEL_TEST_PG"), log, {
      external: () => externalPostgres(env),
      throwaway: throwawayPostgres,
      pglite: () => pglitePostgres({ maxConnections: PGLITE_MAX_CONNECTIONS }),
    }, (instance) => verifyPostgres(instance.connectionString, proxy.address));
    closers.push(() => pg.close());
    const token = randomBytes(16).toString("hex");
    let bridge: UpstashBridge | undefined;
    const redis = await firstWorking("redis", forced(env.SENTINEL_TEST_REDIS, REDIS_ENGINES, "SENTINEL_TEST_REDIS"), log, {
      external: () => externalRedis(env),
      throwaway: throwawayRedis,
      "ioredis-mock": mockRedis,
    }, async (instance) => {
      bridge = await startUpstashBridge({ redis: instance.bridgeClient, token });
      await verifyRedis(bridge, instance.directUrl).catch(async (error: unknown) => {
        await bridge?.close();
        throw error;
      });
    });
    if (bridge === undefined) throw new Error("unreachable: redis verified without a bridge");
    const up = bridge;
    closers.push(() => redis.close(), () => up.close()); // run in reverse: bridge first
    const summary = describeEngines(pg, proxy, redis, up);
    return {
      postgres: { connectionString: pg.connectionString, wsProxy: proxy.address, engine: pg.engine },
      redis: { restUrl: up.url, restToken: up.token, engine: redis.engine, directUrl: redis.directUrl, createClient: () => connectRedis(redis.directUrl) },
      describe: () => summary,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

type Starters<E extends string, I> = Record<E, () => Promise<I>>;

/** Tries engines in preference order (or only the forced one); logs each attempt; throws with every reason. */
async function firstWorking<E extends string, I extends { label: string; close(): Promise<void> }>(
  service: string,
  only: E | undefined,
  log: (line: string) => void,
  starters: Starters<E, I>,
  verify: (instance: I) => Promise<void>,
): Promise<I> {
  const order = only === undefined ? (Object.keys(starters) as E[]) : [only];
  const failures: string[] = [];
  for (const engine of order) {
    const started = performance.now();
    let instance: I | undefined;
    try {
      instance = await starters[engine]();
      await verify(instance);
      log(`${service}: using ${instance.label} (ready in ${Math.round(performance.now() - started)} ms)`);
      return instance;
    } catch (error) {
      await instance?.close().catch(() => {});
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      failures.push(`${engine}: ${reason}`);
      log(`${service}: ${engine} unavailable (${reason})`);
    }
  }
  const hint = only === undefined ? "" : ` (forced by SENTINEL_TEST_${service === "postgres" ? "PG" : "REDIS"}=${only})`;
  throw new Error(`No ${service} for the tests${hint}. Tried:\n  ${failures.join("\n  ")}`);
}

function forced<E extends string>(value: string | undefined, engines: readonly E[], variable: string): E | undefined {
  if (value === undefined || value === "" || value === "auto") return undefined;
  if ((engines as readonly string[]).includes(value)) return value as E;
  throw new Error(`${variable}=${value} is not one of: auto, ${engines.join(", ")}`);
}

function describeEngines(pg: PostgresInstance, proxy: WsProxy, redis: RedisInstance, bridge: UpstashBridge): string {
  const port = (address: string) => address.slice(address.lastIndexOf(":"));
  return `postgres: ${pg.label} (via ws proxy ${port(proxy.address)}); redis: ${redis.label} (via Upstash bridge ${port(bridge.url)})`;
}
