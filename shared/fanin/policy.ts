import { Cron } from "croner";
import { PROBES } from "../probes/registry.ts";
import type { Settings } from "../config/index.ts";
import type { FanInPolicy } from "./evaluate.ts";

/** The fan-in's policy from the settings: objectives, alert rules, and the probes it expects to hear from. */
export function policyFrom(settings: Settings): FanInPolicy {
  return {
    objectives: settings.slos,
    alerting: settings.alerting,
    probes: PROBES.map((p) => ({ id: p.id, stage: p.stage, title: p.title, intervalMs: intervalOf(p.schedule) })),
  };
}

/** The gap between two runs of a cron schedule (the longest gap among the next few, for irregular ones). */
export function intervalOf(schedule: string): number {
  const runs = new Cron(schedule, { timezone: "UTC", paused: true }).nextRuns(8, new Date(Date.UTC(2026, 0, 1)));
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i]!.getTime() - runs[i - 1]!.getTime());
  return longest;
}
