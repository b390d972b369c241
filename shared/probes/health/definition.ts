import { ROOTS, type ProbeDefinition } from "../types.ts";
import { HealthSettings, REDIS_EVERY_MINUTES } from "./settings.ts";

/** The health probe as the catalog lists it (index.ts adds `run`). */
export const HEALTH = {
  id: "health", title: "Service health", stage: "runner-api", schedule: "* * * * *", settings: HealthSettings,
  checkStages: {
    byName: { "runner-health": "runner-api", "runner-ready": "runner-api", "runner-db": "runner-api", database: "database", redis: "queue" },
    // An extra endpoint (BEACON_HEALTH_URLS) named portal... watches the portal.
    byPrefix: [["url:portal", "portal"]],
  },
  // The runner's readiness answers 503 while its database or Redis is down: those are the cause.
  // The runner failing to read its database while /ready already fails is the same fault: /ready speaks.
  checkDependsOn: { byName: { "runner-ready": [...ROOTS.database, ...ROOTS.redis], "runner-db": [...ROOTS.database, "check/health/runner-ready"] } },
  nextStep: "Check the runner's /health/ready, whether it reads its database (GET /api/v1/jobs?limit=1) and its database and Redis connectivity",
  // /health, /health/ready and the one-job read (which is also one indexed query on Beacon's Postgres, by the runner).
  // Its Redis PING runs one minute in 10 (`redisEveryMinutes`, and whenever runner-ready does not pass).
  // Its `database` check sends no statement on the tick's new connection: the set-up statement's answer is the proof.
  beaconPerRun: { http: 3, sql: 0, sqlConnects: true, redis: 1, perHealthUrl: 1, redisEveryMinutes: REDIS_EVERY_MINUTES },
} as const satisfies ProbeDefinition<HealthSettings>;
