import type { Config } from "@netlify/functions";
import { scheduledProbe } from "../netlify/scheduled.ts";

/** Receipts: the executions API, job list and details, id mapping, and the receipts of recent jobs. */
export default scheduledProbe("receipts");

export const config: Config = { schedule: "*/5 * * * *" };
