import { z } from "zod";
import { ROOTS } from "../probes/types.ts";

/**
 * Service level objectives. Each SLI is a ratio of good events to all events, fed by event sources in
 * order of preference: the first source that has events in the period is used, and the status document
 * says which one and how many events it had.
 *
 * Event sources are named `<probe>:<event>` and come from the `events` of probe results.
 */
export const Objective = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string(),
  /** Fraction of events that must be good, e.g. 0.999. */
  target: z.number().gt(0).lt(1),
  /** Compliance period in days (default 30). Alert windows scale with it. */
  periodDays: z.number().positive().max(90).default(30),
  /**
   * Event sources, `<probe>:<event>`. With `regions`, a source may hold `{region}`, replaced by each
   * region's name (e.g. `regions:executions-{region}`).
   */
  sources: z.array(z.string().regex(/^[a-z0-9-]+:[a-z0-9-]*(\{region\})?[a-z0-9-]*$/, "must be <probe>:<event>, e.g. outbox:jobs or regions:executions-{region}")).min(1),
  /**
   * Per-region objectives: one objective per region (id `<id>-<region>`, title "<title> in <region>"),
   * each with its own burn-rate alerts, so an alert names the region. Region names as Beacon's router
   * stores them (us-east, eu-west, asia-pacific). Absent: one objective.
   */
  regions: z.array(z.string().regex(/^[a-z0-9-]+$/, "must be a region name such as eu-west")).min(1).optional(),
  /** Set on an objective expanded from `regions`: the region it judges. */
  region: z.string().optional(),
  /**
   * A floor under the events a window must hold before it is judged (its burn rate shown, an alert on
   * it allowed to fire, the budget read from it). The objective raises it: see `enoughEvents`.
   */
  minEvents: z.number().int().nonnegative().default(100),
  /**
   * Alerts that are root causes of this SLO burning (alert keys, as a probe's `dependsOn`): while one
   * fails, the SLO's alert is held behind it and listed in its page (README: "One fault, one page").
   */
  dependsOn: z.array(z.string()).optional(),
});
export type Objective = z.infer<typeof Objective>;

/**
 * The fewest events a window must hold before it is judged: more than 1 / (1 - target), so that one bad
 * event alone never spends the whole error budget (1001 at 99.9%, 101 at 99%), and at least `minEvents`.
 * Below it an SLO shows "not enough data" and no burn rate, no alert fires, no budget is read
 * (SRE Workbook, "Alerting on SLOs", low-traffic services; ../shared/slo-and-alerting.md).
 */
export function enoughEvents(o: Pick<Objective, "target" | "minEvents">): number {
  const budget = Number((1 - o.target).toPrecision(12));
  return Math.max(o.minEvents, Math.floor(1 / budget + 1e-9) + 1);
}

/** The four objectives of the hardening plan, each held behind the stages it rests on. */
export const DEFAULT_OBJECTIVES: z.input<typeof Objective>[] = [
  // Every job in Beacon's database first (outbox probe), then the runner's counters, then the canary alone.
  { id: "job-success", title: "Jobs complete successfully", target: 0.99, sources: ["outbox:jobs", "traffic:jobs", "canary:jobs"], dependsOn: [...ROOTS.runner, ...ROOTS.database, ...ROOTS.redis] },
  // The health probe's own samples: the runner's health alerts are the cause, and say it first.
  { id: "api-availability", title: "Runner API available", target: 0.999, sources: ["health:availability"], dependsOn: [...ROOTS.runner] },
  {
    id: "processing-time", title: "Jobs start executing within 120 s", target: 0.99, sources: ["outbox:start-latency", "traffic:queue-latency", "canary:start-latency"],
    dependsOn: [...ROOTS.runner, ...ROOTS.database, ...ROOTS.redis, ...ROOTS.outbox, ...ROOTS.queue, "check/outbox/jobs-stuck-created"],
  },
  { id: "error-rate", title: "API requests without 5xx", target: 0.999, sources: ["traffic:requests"], dependsOn: [...ROOTS.runner, ...ROOTS.database] },
];

export const Objectives = z.array(Objective).prefault(DEFAULT_OBJECTIVES).superRefine((objectives, ctx) => {
  objectives.forEach((o, i) => {
    const templated = o.sources.some((src) => src.includes("{region}"));
    if (o.regions && !templated) ctx.addIssue({ code: "custom", path: [i, "sources"], message: `"${o.id}" has regions, so a source must hold {region} (e.g. regions:executions-{region})` });
    if (!o.regions && templated) ctx.addIssue({ code: "custom", path: [i, "regions"], message: `"${o.id}" has a {region} source, so it needs regions (e.g. ["us-east", "eu-west", "asia-pacific"])` });
  });
}).transform(expandRegions);

/** One objective per region for objectives with `regions`; the others pass through unchanged. */
export function expandRegions(objectives: Objective[]): Objective[] {
  return objectives.flatMap((o) => {
    if (!o.regions) return [o];
    const { regions, ...base } = o;
    return regions.map((region) => ({
      ...base, id: `${o.id}-${region}`, title: `${o.title} in ${region}`, region,
      sources: o.sources.map((src) => src.replaceAll("{region}", region)),
    }));
  });
}

/**
 * Multiwindow, multi-burn-rate alerts (Google SRE Workbook; Sloth). Windows are fractions of the period
 * (for 30 days: 1 h/5 m, 6 h/30 m, 1 d/2 h, 3 d/6 h), so the factors stay 14.4, 6, 3 and 1 for any period.
 */
export const BURN_RATE_RULES = [
  { severity: "page", budgetShare: 0.02, longFraction: 1 / 720 },
  { severity: "page", budgetShare: 0.05, longFraction: 6 / 720 },
  { severity: "ticket", budgetShare: 0.1, longFraction: 24 / 720 },
  { severity: "ticket", budgetShare: 0.1, longFraction: 72 / 720 },
] as const;

export type Severity = (typeof BURN_RATE_RULES)[number]["severity"];

export interface BurnRateWindow {
  severity: Severity;
  /** Burn rate at which the rule fires: budgetShare of the whole budget spent within the long window. */
  factor: number;
  longMinutes: number;
  /** A twelfth of the long window: the alert also needs it burning, so it clears soon after the cause. */
  shortMinutes: number;
}

/** BURN_RATE_RULES for a period: what the fan-in evaluates and what `sentinel export prometheus-rules` writes. */
export function burnRateWindows(periodDays: number): BurnRateWindow[] {
  const periodMinutes = periodDays * 24 * 60;
  return BURN_RATE_RULES.map((rule) => {
    const longMinutes = periodMinutes * rule.longFraction;
    return { severity: rule.severity, factor: (rule.budgetShare * periodMinutes) / longMinutes, longMinutes, shortMinutes: longMinutes / 12 };
  });
}
