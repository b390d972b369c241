import { z } from "zod";
import { CATALOG } from "../probes/catalog.ts";

/** When a probe's check alerts: N failures in the last M runs; resolves after K passes in a row. */
export const AlertRule = z.object({
  failuresToTrigger: z.number().int().positive().default(3),
  window: z.number().int().positive().max(60).default(5),
  successesToResolve: z.number().int().positive().default(2),
  /** Runs in a row the probe could not measure (`error`) before "probe blind" alerts. */
  blindToTrigger: z.number().int().positive().default(3),
});
export type AlertRule = z.infer<typeof AlertRule>;

/**
 * Which alerts are root causes of which probes' checks: while a dependency fails, the dependent checks
 * are held behind it ("affected by"), listed in its page, and do not page on their own. Keys are
 * `<probe>` (every check and the blindness of the probe), `<probe>/<check>` or `<probe>/<prefix>*`;
 * values are alert keys ("check/<probe>/<check>"), as each probe's definition declares them
 * (`dependsOn`, `checkDependsOn`). An SLO's are its objective's `dependsOn`.
 */
export const DEFAULT_DEPENDENCIES: Record<string, string[]> = Object.fromEntries(CATALOG.flatMap((p) => [
  ...(p.dependsOn ? [[p.id, [...p.dependsOn]]] : []),
  ...Object.entries(p.checkDependsOn?.byName ?? {}).map(([check, on]) => [`${p.id}/${check}`, [...on]]),
  ...(p.checkDependsOn?.byPrefix ?? []).map(([prefix, on]) => [`${p.id}/${prefix}*`, [...on]]),
] as [string, string[]][]));

/** The dependencies of one probe's check (or, without `check`, of the probe's blindness). */
export function dependenciesOf(deps: Record<string, string[]>, probe: string, check?: string): string[] {
  const out = [...(deps[probe] ?? [])];
  if (check !== undefined) {
    out.push(...(deps[`${probe}/${check}`] ?? []));
    for (const [key, on] of Object.entries(deps)) {
      if (key.endsWith("*") && key.startsWith(`${probe}/`) && check.startsWith(key.slice(probe.length + 1, -1))) out.push(...on);
    }
  }
  return [...new Set(out)];
}

/**
 * Checks that restate another check's failure, keyed by alert key: the canary's regression checks
 * repeat what a failed stage already said ("still in created after 30 s" is the outbox, publisher,
 * queue or worker stage that did not happen). While one of the restated stages fails in the same run,
 * or its alert fires, the restatement is held behind it: one cause, one alert. Built in, not settings:
 * it follows from what the canary's checks mean.
 */
export const RESTATEMENTS: Record<string, string[]> = {
  "check/canary/regression:left-created": ["created", "outbox", "published", "queued", "processing"].map((s) => `check/canary/stage:${s}`),
  "check/canary/regression:questions-answered": ["check/canary/stage:receipt"],
};

/** What to do next, per probe, shown in alerts: each probe's definition says (`nextStep`). */
export const DEFAULT_NEXT_STEPS: Record<string, string> = Object.fromEntries(CATALOG.flatMap((p) => (p.nextStep ? [[p.id, p.nextStep]] : [])));

export const AlertingSettings = z.object({
  defaults: AlertRule.prefault({}),
  /**
   * Per-probe overrides of the rule, e.g. {"canary": {"failuresToTrigger": 1, "window": 1}}. The queue
   * probe runs every 5 minutes, so by default 2 of its last 3 runs (5 to 10 minutes of evidence) trigger:
   * a stopped worker pages within 10 minutes of its oldest message passing 300 s. Setting this replaces it.
   */
  probes: z.record(z.string(), AlertRule.partial()).default({ queue: { failuresToTrigger: 2, window: 3 } }),
  /** Remind while an alert keeps firing (Alertmanager's repeat_interval). */
  reminderMinutes: z.number().positive().default(240),
  /** A probe with no result for this many of its intervals is "missing". */
  staleFactor: z.number().min(1).default(2),
  dependencies: z.record(z.string(), z.array(z.string())).default(DEFAULT_DEPENDENCIES),
  nextSteps: z.record(z.string(), z.string()).default(DEFAULT_NEXT_STEPS),
});
export type AlertingSettings = z.infer<typeof AlertingSettings>;

export function ruleFor(settings: AlertingSettings, probe: string): AlertRule {
  return { ...settings.defaults, ...settings.probes[probe] };
}
