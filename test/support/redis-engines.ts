import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import RedisMock from "ioredis-mock";
import { freePort, onPath, probeTcp, spawnService } from "./processes.ts";
import { createCommandRunner, type RedisLike } from "./redis-command.ts";
import { startRespServer } from "./resp-server.ts";

export type RedisEngine = "external" | "throwaway" | "ioredis-mock";

export interface RedisInstance {
  engine: RedisEngine;
  /** A `redis://` URL any process can reach with ioredis (for the mock: a RESP shim over it). */
  directUrl: string;
  /** Client for the Upstash bridge, in this process. */
  bridgeClient(): RedisLike;
  /** For describe(), e.g. "external 127.0.0.1:6379". */
  label: string;
  close(): Promise<void>;
}

/** Fails fast instead of queueing commands while (re)connecting: a missing server must be loud. */
export function connectRedis(url: string): Redis {
  return new Redis(url, { connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: () => null });
}

/** A server already listening: SENTINEL_TEST_REDIS_URL, else 127.0.0.1:6379. */
export async function externalRedis(env: NodeJS.ProcessEnv): Promise<RedisInstance> {
  const directUrl = env.SENTINEL_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
  const url = new URL(directUrl);
  await probeTcp(url.hostname.replace(/^\[(.*)\]$/, "$1"), Number(url.port || 6379));
  return {
    engine: "external",
    directUrl,
    bridgeClient: () => connectRedis(directUrl),
    label: `external ${new URL(directUrl).host}`,
    close: async () => {},
  };
}

/** redis-server from PATH on a free port, nothing persisted, its temp dir deleted on close. */
export async function throwawayRedis(): Promise<RedisInstance> {
  const binary = onPath("redis-server");
  if (binary === undefined) throw new Error("no redis-server on PATH");
  const dir = await mkdtemp(join(tmpdir(), "sentinel-redis-"));
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir];
  const server = await spawnService(binary, args, { ready: /Ready to accept connections/i, timeoutMs: 10_000 }).catch(
    async (error: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw error;
    },
  );
  const directUrl = `redis://127.0.0.1:${port}`;
  return {
    engine: "throwaway",
    directUrl,
    bridgeClient: () => connectRedis(directUrl),
    label: `throwaway ${binary} 127.0.0.1:${port}`,
    close: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * ioredis-mock keeps its data in this process, shared by every mock instance with the same
 * host:port. A random host makes one private data set per startServices() call. Test workers reach
 * it through a RESP shim, with a real ioredis client, just as they would a real Redis: the
 * sandbox code then runs unchanged on every engine. Gaps papered over in redis-command.ts,
 * mock-options.ts and mock-streams.ts: no generic `call`, case-sensitive options, toy streams, its
 * own error texts. Gaps left: not binary-safe (the mock works on JS strings), no blocking commands,
 * no pub/sub through the shim, and only the commands the mock implements (compat.md in its package).
 */
export async function mockRedis(): Promise<RedisInstance> {
  const context = { host: `sentinel-mock-${randomBytes(4).toString("hex")}`, port: 6379, lazyConnect: false };
  const shim = await startRespServer(createCommandRunner(new RedisMock(context)));
  return {
    engine: "ioredis-mock",
    directUrl: shim.url,
    bridgeClient: () => new RedisMock(context),
    label: `ioredis-mock (in-process, RESP shim ${new URL(shim.url).host})`,
    close: async () => {
      await new RedisMock(context).flushall(); // the context outlives us in the mock's module state
      await shim.close();
    },
  };
}
