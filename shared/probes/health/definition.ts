import { ROOTS, type ProbeDefinition } from "../types.ts";
import { HealthSettings } from "./settings.ts";

/** The health probe as the catalog lists it (index.ts adds `run`). */
export const HEALTH = {
  id: "health", title: "Service health", stage: "runner-api", schedule: "* * * * *", settings: HealthSettings,
  checkStages: {
    byName: { "runner-health": "runner-api", "runner-ready": "runner-api", database: "database", redis: "queue" },
    // An extra endpoint (BEACON_HEALTH_URLS) named portal... watches the portal.
    byPrefix: [["url:portal", "portal"]],
  },
  // The runner's readiness answers 503 while its database or Redis is down: those are the cause.
  checkDependsOn: { byName: { "runner-ready": [...ROOTS.database, ...ROOTS.redis] } },
  nextStep: "Check the runner's /health/ready and its database and Redis connectivity",
  beaconPerRun: { http: 2, sql: 1, redis: 1, perHealthUrl: 1 },
} as const satisfies ProbeDefinition<HealthSettings>;
