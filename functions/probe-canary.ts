import type { Config } from "@netlify/functions";
import { scheduledProbe } from "../netlify/scheduled.ts";

/** The canary job: every minute it advances the one canary in flight, or submits a new one every 15 minutes. */
export default scheduledProbe("canary");

export const config: Config = { schedule: "* * * * *" };
