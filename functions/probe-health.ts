import type { Config } from "@netlify/functions";
import { scheduledProbe } from "../netlify/scheduled.ts";

/** Service health: runner /health and /health/ready, extra URLs, Beacon's Postgres and Redis. */
export default scheduledProbe("health");

export const config: Config = { schedule: "* * * * *" };
