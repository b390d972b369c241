import type { TestProject } from "vitest/node";
import type { TestServicesInfo } from "./provided.ts";
import { startServices } from "./services.ts";

/**
 * Starts Postgres and Redis once for the whole run (vitest `globalSetup`) and hands their addresses
 * to the test files. Throws, failing the run with every reason, when a service cannot be had.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  const services = await startServices({ log: (line) => console.log(`[services] ${line}`) });
  console.log(`[services] ${services.describe()} — up in ${Math.round(performance.now() - started)} ms`);
  const info: TestServicesInfo = {
    postgres: services.postgres,
    redis: {
      restUrl: services.redis.restUrl,
      restToken: services.redis.restToken,
      engine: services.redis.engine,
      directUrl: services.redis.directUrl,
    },
    description: services.describe(),
  };
  project.provide("sentinelServices", info);
  return () => services.close();
}
