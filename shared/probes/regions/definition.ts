import { z } from "zod";
import { State } from "../../result.ts";
import { ROOTS, type ProbeDefinition } from "../types.ts";
import { RegionsSettings } from "./settings.ts";

/**
 * The regions probe as the catalog lists it (index.ts adds `run`), and the region × model grid it
 * keeps, which the status document shows. Kept apart from the probe's code so that the status
 * functions, which read the grid, do not ship the probe.
 */
export const REGIONS = {
  id: "regions", title: "Regions and providers", stage: "worker", schedule: "*/5 * * * *", settings: RegionsSettings, stateful: true,
  // The runner's own services (yagna and the others) are the runner API's.
  checkStages: { byPrefix: [["provider:", "runner-api"]] },
  // Its grid is read from the database; the runner's own services (providers) are the runner's; a
  // region failing while the hybrid router reports a provider missing is the router's.
  dependsOn: ROOTS.database,
  checkDependsOn: { byPrefix: [["provider:", ROOTS.runner], ["region:", ["check/regions/router"]]] },
  nextStep:
    "Open the region's failed executions from the evidence (output_data.failure) and check the hybrid router for that region; " +
    "restart-lost jobs have no remediation in Beacon: resubmit their specs through POST /api/v1/jobs/cross-region",
  // One grouped statement; the runner's /health and /metrics (plus the router's /health with BEACON_ROUTER_URL).
  beaconPerRun: { http: 2, sql: 1, redis: 0 },
} as const satisfies ProbeDefinition<RegionsSettings>;

/** One region × model cell of the last 24 hours (the `regions` probe's grid window). */
export const RegionCell = z.object({
  region: z.string(),
  model: z.string(),
  /** Executions started in the window, whatever their outcome. */
  started: z.number().int().nonnegative(),
  completed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** Failed by a timeout (status `timeout`, or failure code ROUTER_TIMEOUT). */
  timedOut: z.number().int().nonnegative(),
  technicalErrors: z.number().int().nonnegative(),
  refusals: z.number().int().nonnegative(),
  /** completed / (completed + failed + timedOut); null when none finished. */
  successRatio: z.number().min(0).max(1).nullable(),
  state: State,
  /** The most frequent failure cause, e.g. "ROUTER_TIMEOUT (inference/hybrid_router, transient) ×12". */
  dominantCause: z.string().nullable(),
});
export type RegionCell = z.infer<typeof RegionCell>;

/** The region × model grid, filled by the tick from the `regions` probe's latest run. */
export const RegionsSection = z.object({
  evaluatedAt: z.iso.datetime(),
  windowHours: z.number().positive(),
  regions: z.array(z.string()),
  models: z.array(z.string()),
  cells: z.array(RegionCell),
});
export type RegionsSection = z.infer<typeof RegionsSection>;
