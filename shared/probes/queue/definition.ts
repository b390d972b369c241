import { ROOTS, type ProbeDefinition } from "../types.ts";
import { QueueSettings } from "./settings.ts";

/** The queue probe as the catalog lists it (index.ts adds `run`). */
export const QUEUE = {
  id: "queue", title: "Redis job queue", stage: "queue", schedule: "*/5 * * * *", settings: QueueSettings, stateful: true,
  nextStep: "Inspect the queue and dead letters: `npx beacon-sentinel run queue`; check that workers are running",
  dependsOn: ROOTS.redis,
  // A deep queue is the latency's consequence, dead letters the broken contract's: one fault, one page.
  checkDependsOn: { byName: { "queue-depth": ["check/queue/queue-latency"], "dead-letter-growth": ["check/queue/message-contract"] } },
  // 3 commands in one request while the main list, the retry set and the dead list are each shorter than the
  // sample (50): a healthy queue. Every 5 minutes: a stopped worker is seen up to 5 minutes later than at 1.
  beaconPerRun: { http: 0, sql: 0, redis: 3 },
} as const satisfies ProbeDefinition<QueueSettings>;
