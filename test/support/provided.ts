import type { PostgresEngine } from "./postgres-engines.ts";
import type { RedisEngine } from "./redis-engines.ts";

/**
 * What global-setup.ts hands every test file (through vitest's provide/inject, so it must be plain
 * serialisable data: test files run in other processes than the services).
 */
export interface TestServicesInfo {
  postgres: { connectionString: string; wsProxy: string; engine: PostgresEngine };
  redis: {
    restUrl: string;
    restToken: string;
    engine: RedisEngine;
    /** `redis://` URL for a native client (the Beacon sandbox); for ioredis-mock, a RESP shim. */
    directUrl: string;
  };
  /** Services.describe(): which engines this run uses. */
  description: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    sentinelServices: TestServicesInfo;
  }
}
