import { ROOTS, type ProbeDefinition } from "../types.ts";
import { OutboxSettings } from "./settings.ts";

/** The outbox probe as the catalog lists it (index.ts adds `run`). */
export const OUTBOX = {
  id: "outbox", title: "Outbox and stuck jobs", stage: "outbox", schedule: "*/2 * * * *", settings: OutboxSettings, stateful: true,
  // A job stuck past the outbox is the queue's or the worker's; a clock out of step is the database's.
  checkStages: {
    byName: {
      "jobs-stuck-queued": "queue",
      "jobs-stuck-processing": "worker",
      "jobs-stuck-running": "worker",
      "jobs-stuck-finalizing": "worker",
      "executions-stuck-running": "worker",
      "jobs-finished": "worker",
      "clock-skew": "database",
    },
  },
  nextStep: "List stuck jobs and whether republishing can help: `npx beacon-sentinel republish-stuck` (add --execute to act)",
  // The publisher and the workers run in the runner, and every row is in the database.
  dependsOn: [...ROOTS.database, ...ROOTS.runner],
  // A job stuck in created, queued or processing behind a stopped or broken queue is the queue's.
  // A growing backlog is the lag's consequence: one publisher fault, one page.
  checkDependsOn: { byName: { "outbox-backlog": ["check/outbox/outbox-lag"] }, byPrefix: [["jobs-stuck-", [...ROOTS.outbox, ...ROOTS.redis, ...ROOTS.queue]]] },
  beaconPerRun: { http: 0, sql: 1, redis: 0 }, // counted at the database (test/beacon-touch.test.ts): counts, stuck jobs and SLIs in one statement
} as const satisfies ProbeDefinition<OutboxSettings>;
