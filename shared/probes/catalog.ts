import { z } from "zod";
import type { ProbeDefinition } from "./types.ts";
import type { AnyProbe } from "./types.ts";
import { healthProbe } from "./health/index.ts";
import { outboxProbe } from "./outbox/index.ts";
import { queueProbe } from "./queue/index.ts";
import { receiptsProbe } from "./receipts/index.ts";
import { trafficProbe } from "./traffic/index.ts";
import { canaryProbe } from "./canary/index.ts";
import { regionsProbe } from "./regions/index.ts";

/**
 * Every probe, once, in the order the status page lists them: the one list a new probe joins (its
 * folder holds `definition.ts`, what it is: id, title, stage, cadence, settings schema and defaults,
 * the stages its checks are about; and `index.ts`, that definition with its `run`). Everything else
 * (the tick, manual runs, configuration, alerts, the status routes, the cost projection) reads this.
 * Trade: the status functions bundle the probes' code they never run (measured in the README's
 * "Adding a probe"); one list is worth more than the smaller bundle.
 */
const ALL = [healthProbe, outboxProbe, queueProbe, receiptsProbe, trafficProbe, canaryProbe, regionsProbe] as const;

export const PROBES: readonly AnyProbe[] = ALL;
/** The same probes seen as what they are, without what they do. */
export const CATALOG: readonly ProbeDefinition[] = ALL;

export function findProbe(id: string): AnyProbe | undefined {
  return PROBES.find((p) => p.id === id);
}

export const PROBE_IDS: string[] = CATALOG.map((p) => p.id);

export function findDefinition(id: string): ProbeDefinition | undefined {
  return CATALOG.find((p) => p.id === id);
}

/** `probes.<id>` of SENTINEL_SETTINGS: each probe's own schema, defaulted, in catalog order. */
export const ProbeSettings = z.object(settingsShape(ALL));

// biome-ignore lint: definitions whose settings types differ
function settingsShape<const T extends readonly ProbeDefinition<any>[]>(definitions: T) {
  const shape = Object.fromEntries(definitions.map((d) => [d.id, d.settings.prefault({})]));
  return shape as { [D in T[number] as D["id"]]: z.ZodPrefault<D["settings"]> };
}

/**
 * The stage a check is about: as its probe's definition says (`checkStages`, by name, then by
 * prefix), else the probe's home stage. Pure: the probe id and the check name decide.
 */
export function stageOfCheck(probe: string, homeStage: string, check: string | undefined): string {
  if (check === undefined) return homeStage;
  const stages = findDefinition(probe)?.checkStages;
  const mapped = stages?.byName?.[check];
  if (mapped) return mapped;
  return stages?.byPrefix?.find(([prefix]) => check.startsWith(prefix))?.[1] ?? homeStage;
}

/** Every stage a probe's checks can land on (its home first), for ordering the cards. */
export function stagesOfProbe(probe: string, homeStage: string): string[] {
  const stages = findDefinition(probe)?.checkStages;
  return [...new Set([homeStage, ...Object.values(stages?.byName ?? {}), ...(stages?.byPrefix ?? []).map(([, stage]) => stage)])];
}
