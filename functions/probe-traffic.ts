import type { Config } from "@netlify/functions";
import { scheduledProbe } from "../netlify/scheduled.ts";

/** Traffic: Beacon's /metrics counters turned into per-run deltas (requests, 5xx, jobs, queue latency). */
export default scheduledProbe("traffic");

export const config: Config = { schedule: "*/5 * * * *" };
