import { ROOTS, type ProbeDefinition } from "../types.ts";
import { TrafficSettings } from "./settings.ts";

/** The traffic probe as the catalog lists it (index.ts adds `run`). */
export const TRAFFIC = {
  id: "traffic", title: "Runner traffic (/metrics)", stage: "worker", schedule: "*/5 * * * *", settings: TrafficSettings, stateful: true,
  // The runner's own counters: its requests are the API's, its jobs the worker's, its pick-up latency the queue's.
  checkStages: { byName: { scrape: "runner-api", requests: "runner-api", "5xx-ratio": "runner-api", "job-success": "worker", "queue-latency": "queue" } },
  nextStep: "Check the runner's /metrics and recent 5xx in its logs",
  dependsOn: ROOTS.runner,
  beaconPerRun: { http: 1, sql: 0, redis: 0 },
} as const satisfies ProbeDefinition<TrafficSettings>;
