import type { Config } from "@netlify/functions";
import { scheduledTick } from "../netlify/scheduled.ts";

/**
 * The sentinel's one scheduled function: runs the probes that are due (each on its own cadence),
 * evaluates SLOs and alerts with their results, stores the status, and notifies. Locally,
 * `netlify functions:invoke tick --payload '{"probes":["health"]}'` runs just the probes named.
 */
export default scheduledTick();

export const config: Config = { schedule: "* * * * *" };
