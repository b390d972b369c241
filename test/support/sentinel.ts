import { testServices } from "./env.ts";
import { createRuntime, type Runtime, type RuntimeOptions } from "../../netlify/runtime.ts";
import type { Harness } from "../sandbox/testing.ts";
import type { Sandbox } from "../sandbox/index.ts";

/**
 * The environment a deployed sentinel would have, pointed at a test sandbox: the same variables
 * operators set, so tests go through the real configuration path.
 */
export function sentinelEnv(h: Harness, sandbox: Sandbox, settings: Record<string, unknown> = {}, extra: Record<string, string> = {}): Record<string, string> {
  const s = testServices();
  return {
    BEACON_API_URL: sandbox.url,
    BEACON_DATABASE_URL: h.db.connectionString,
    NEON_WS_PROXY: s.postgres.wsProxy,
    BEACON_REDIS_REST_URL: s.redis.restUrl,
    BEACON_REDIS_REST_TOKEN: s.redis.restToken,
    SENTINEL_KEY_PREFIX: `${h.prefix}sentinel:`,
    SENTINEL_SETTINGS: JSON.stringify({ ...settings, beacon: { queue: { name: sandbox.queueName }, ...(settings.beacon as object) } }),
    ...extra,
  };
}

/** A runtime on that environment, with Upstash retries off so failures show at once. */
export function sentinelRuntime(env: Record<string, string>, options: RuntimeOptions = {}): Runtime {
  return createRuntime(env, { redisRetries: 0, ...options });
}
