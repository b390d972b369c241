import { CATALOG as PROBES } from "../probes/catalog.ts";
import { scheduleOf, type Settings } from "./index.ts";
import { intervalOf } from "../schedule.ts";
import type { ProbeInfo } from "../status/document.ts";
import type { FanInPolicy } from "../fanin/evaluate.ts";

/**
 * What the settings mean for the tick: each probe's effective cadence and the fan-in's policy. Here,
 * with the configuration, because it reads the whole of it (schedules, objectives, alert rules).
 */

/** Every registered probe with its effective cadence (SENTINEL_SETTINGS.schedules, else its own). */
export function probeInfos(settings: Settings): ProbeInfo[] {
  return PROBES.map((p) => {
    const schedule = scheduleOf(settings, p);
    return { id: p.id, title: p.title, stage: p.stage, schedule, intervalMs: intervalOf(schedule) };
  });
}

/** The evaluation's policy from the settings: objectives, alert rules, and the probes it expects to hear from. */
export function policyFrom(settings: Settings): FanInPolicy {
  return {
    objectives: settings.slos,
    alerting: settings.alerting,
    probes: probeInfos(settings).map(({ id, stage, title, intervalMs }) => ({ id, stage, title, intervalMs })),
  };
}
