import type { Config } from "@netlify/functions";
import { scheduledProbe } from "../netlify/scheduled.ts";

/** Outbox backlog, lag and envelope contract, and every stuck job state, from Beacon's Postgres. */
export default scheduledProbe("outbox");

export const config: Config = { schedule: "*/2 * * * *" };
