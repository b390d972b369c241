import { z } from "zod";
import type { ProbeDefinition } from "./types.ts";
import { HEALTH } from "./health/definition.ts";
import { OUTBOX } from "./outbox/definition.ts";
import { QUEUE } from "./queue/definition.ts";
import { RECEIPTS } from "./receipts/definition.ts";
import { TRAFFIC } from "./traffic/definition.ts";
import { CANARY } from "./canary/definition.ts";
import { REGIONS } from "./regions/definition.ts";

/**
 * What every probe is, without what it does: each probe's `definition.ts` (id, title, stage, default
 * cadence, settings schema with its defaults, the stages its checks are about). The configuration,
 * the alerts, the status routes and the cost projection need only this, so a function that runs no
 * probe ships no probe code; registry.ts lists the same probes with their `run`.
 */
const DEFINITIONS = [HEALTH, OUTBOX, QUEUE, RECEIPTS, TRAFFIC, CANARY, REGIONS] as const;

/** Every probe, once, in the order the status page lists them. registry.ts must list the same ids. */
export const CATALOG: readonly ProbeDefinition[] = DEFINITIONS;

export const PROBE_IDS: string[] = CATALOG.map((p) => p.id);

export function findDefinition(id: string): ProbeDefinition | undefined {
  return CATALOG.find((p) => p.id === id);
}

/** `probes.<id>` of SENTINEL_SETTINGS: each probe's own schema, defaulted, in catalog order. */
export const ProbeSettings = z.object(settingsShape(DEFINITIONS));

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
