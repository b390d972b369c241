import type { Config } from "@netlify/functions";
import { scheduledFanIn } from "../netlify/scheduled.ts";

/** Fan-in: consumes new probe results, evaluates SLOs and alerts, and notifies Slack. */
export default scheduledFanIn();

export const config: Config = { schedule: "* * * * *" };
