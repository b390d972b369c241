import { randomBytes } from "node:crypto";
import { startServices, type Services } from "../../test/support/services.ts";
import { startSandbox, type Sandbox } from "../../test/sandbox/index.ts";
import { generateKeyPair } from "../../shared/beacon/signing.ts";

/** A local Beacon (the sandbox) on real or embedded Postgres and Redis, and the env that points at it. */
export interface LocalBeacon {
  services: Services;
  sandbox: Sandbox;
  /** Environment for the sentinel: BEACON_* pointing at the sandbox, the store on the same Redis. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startLocalBeacon(options: { port?: number; log: (line: string) => void }): Promise<LocalBeacon> {
  const services = await startServices({ log: options.log });
  const beaconAdminToken = randomBytes(18).toString("base64url");
  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({
      sql: { connectionString: services.postgres.connectionString, wsProxy: services.postgres.wsProxy },
      redis: () => services.redis.createClient(),
      adminToken: beaconAdminToken,
      port: options.port ?? 0,
      // Beacon's tables go into a schema of the sandbox's own, dropped when it stops: the database it found is left as it was.
      ownSchema: true,
    });
  } catch (error) {
    await services.close();
    throw error;
  }
  const env: Record<string, string> = {
    BEACON_API_URL: sandbox.url,
    // The sandbox serves a stand-in for the hybrid router's /health, so the regions probe's router check runs too.
    BEACON_ROUTER_URL: `${sandbox.url}/__router`,
    BEACON_DATABASE_URL: sandbox.connectionString,
    NEON_WS_PROXY: services.postgres.wsProxy,
    BEACON_REDIS_REST_URL: services.redis.restUrl,
    BEACON_REDIS_REST_TOKEN: services.redis.restToken,
    BEACON_ADMIN_TOKEN: beaconAdminToken,
    SENTINEL_ADMIN_TOKEN: randomBytes(18).toString("base64url"),
    // The sandbox verifies every signature but keeps no allowlist, so a fresh key lets the canary run.
    CANARY_SIGNING_KEY: generateKeyPair().privateKey,
  };
  return {
    services, sandbox, env,
    async close() {
      await sandbox.close();
      await services.close();
    },
  };
}
