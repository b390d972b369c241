import type { Config } from "@netlify/functions";
import { scheduledProbe } from "../netlify/scheduled.ts";

/** Beacon's Redis queue: depth, latency, message contract, overdue retries, dead-letter growth. */
export default scheduledProbe("queue");

export const config: Config = { schedule: "* * * * *" };
