import type { Services } from "./services.ts";

/**
 * What global-setup.ts hands every test file (through vitest's provide/inject, so it must be plain
 * serialisable data: test files run in other processes than the services).
 */
export interface TestServicesInfo {
  postgres: Services["postgres"];
  /** Everything but the client factory, which cannot cross processes; `directUrl` reaches the same data. */
  redis: Omit<Services["redis"], "createClient">;
  /** Services.describe(): which engines this run uses. */
  description: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    sentinelServices: TestServicesInfo;
  }
}
