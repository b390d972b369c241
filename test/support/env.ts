import { Redis as UpstashRedis } from "@upstash/redis";
import type { Redis } from "ioredis";
import { inject } from "vitest";
import type { TestServicesInfo } from "./provided.ts";
import { connectRedis } from "./redis-engines.ts";

export type { TestServicesInfo } from "./provided.ts";

/** The services global-setup.ts started for this run. Throws outside a vitest run with that setup. */
export function testServices(): TestServicesInfo {
  const info = inject("sentinelServices") as TestServicesInfo | undefined;
  if (info === undefined) {
    throw new Error("No test services: run the tests with test/vitest.config.ts, e.g. `npm run test:only -- <file>` (its globalSetup starts Postgres and Redis)");
  }
  return info;
}

/** The production Redis client pointed at the local Upstash bridge; no retries, so failures are immediate. */
export function createUpstashClient(info: TestServicesInfo = testServices()): UpstashRedis {
  return new UpstashRedis({ url: info.redis.restUrl, token: info.redis.restToken, retry: false, enableTelemetry: false });
}

/**
 * A native ioredis client on the same data (for the Beacon sandbox, which stands in for Beacon's Go
 * runner). Test files run in worker processes while the data lives in global setup's process, so
 * this always goes over TCP: to the real server, or, for the ioredis-mock engine, to a RESP shim
 * that global setup serves over the mock. The caller closes it (`quit()` or `disconnect()`).
 */
export function createDirectRedis(info: TestServicesInfo = testServices()): Redis {
  return connectRedis(info.redis.directUrl);
}
