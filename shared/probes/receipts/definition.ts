import { ROOTS, type ProbeDefinition } from "../types.ts";
import { ReceiptsSettings } from "./settings.ts";

/** The receipts probe as the catalog lists it (index.ts adds `run`). */
export const RECEIPTS = {
  id: "receipts", title: "Receipts and the executions API", stage: "receipts", schedule: "*/3 * * * *", settings: ReceiptsSettings,
  // The executions and jobs APIs answering at all is the runner API's; what the receipts say is the receipts'.
  checkStages: { byName: { "executions-api": "runner-api", "jobs-api": "runner-api" } },
  nextStep: "Open a failing execution's receipt from the evidence; check the executions API logs",
  dependsOn: ROOTS.runner,
  beaconPerRun: { http: 7, sql: 1, redis: 0 }, // the job-answers statement (counted at the database)
} as const satisfies ProbeDefinition<ReceiptsSettings>;
