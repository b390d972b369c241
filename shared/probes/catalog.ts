import { z } from "zod";
import type { ProbeDefinition } from "./types.ts";
import { HealthSettings } from "./health-settings.ts";
import { OutboxSettings } from "./outbox/settings.ts";
import { QueueSettings } from "./queue/settings.ts";
import { ReceiptsSettings } from "./receipts/settings.ts";
import { TrafficSettings } from "./traffic/settings.ts";
import { CanarySettings } from "./canary/settings.ts";
import { RegionsSettings } from "./regions/settings.ts";

/**
 * What every probe is, without what it does: id, title, stage, default cadence, settings schema. The
 * configuration, the status routes and the cost projection need only this, so a function that runs
 * no probe ships no probe code (each probe's file spreads its entry and adds `run`; registry.ts holds
 * the runnable list).
 */
export const HEALTH = { id: "health", title: "Service health", stage: "runner-api", schedule: "* * * * *", settings: HealthSettings } satisfies ProbeDefinition<HealthSettings>;
export const OUTBOX = { id: "outbox", title: "Outbox and stuck jobs", stage: "outbox", schedule: "*/2 * * * *", settings: OutboxSettings, stateful: true } satisfies ProbeDefinition<OutboxSettings>;
export const QUEUE = { id: "queue", title: "Redis job queue", stage: "queue", schedule: "* * * * *", settings: QueueSettings, stateful: true } satisfies ProbeDefinition<QueueSettings>;
export const RECEIPTS = { id: "receipts", title: "Receipts and the executions API", stage: "receipts", schedule: "*/3 * * * *", settings: ReceiptsSettings } satisfies ProbeDefinition<ReceiptsSettings>;
export const TRAFFIC = { id: "traffic", title: "Runner traffic (/metrics)", stage: "worker", schedule: "*/5 * * * *", settings: TrafficSettings, stateful: true } satisfies ProbeDefinition<TrafficSettings>;
export const CANARY = { id: "canary", title: "Canary job", stage: "receipts", schedule: "* * * * *", settings: CanarySettings, stateful: true } satisfies ProbeDefinition<CanarySettings>;
export const REGIONS = { id: "regions", title: "Regions and providers", stage: "worker", schedule: "*/5 * * * *", settings: RegionsSettings, stateful: true } satisfies ProbeDefinition<RegionsSettings>;

/** Every probe, once, in the order the status page lists them. registry.ts must list the same ids. */
export const CATALOG: readonly ProbeDefinition<{ timeoutMs: number }>[] = [HEALTH, OUTBOX, QUEUE, RECEIPTS, TRAFFIC, CANARY, REGIONS];

export const PROBE_IDS: string[] = CATALOG.map((p) => p.id);

export function findDefinition(id: string): ProbeDefinition<{ timeoutMs: number }> | undefined {
  return CATALOG.find((p) => p.id === id);
}

/** `probes.<id>` of SENTINEL_SETTINGS: each probe's own schema, defaulted. */
export const ProbeSettings = z.object({
  health: HealthSettings.prefault({}),
  outbox: OutboxSettings.prefault({}),
  queue: QueueSettings.prefault({}),
  receipts: ReceiptsSettings.prefault({}),
  traffic: TrafficSettings.prefault({}),
  canary: CanarySettings.prefault({}),
  regions: RegionsSettings.prefault({}),
});
