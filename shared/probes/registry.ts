import { z } from "zod";
import { canaryProbe } from "./canary/index.ts";
import { healthProbe } from "./health.ts";
import { outboxProbe } from "./outbox/index.ts";
import { queueProbe } from "./queue/index.ts";
import { receiptsProbe } from "./receipts/index.ts";
import { regionsProbe } from "./regions/index.ts";
import { trafficProbe } from "./traffic/index.ts";
import type { AnyProbe } from "./types.ts";

/**
 * Every probe, once. Adding a probe means: its file here, one entry in this array, and a function file
 * `functions/probe-<id>.ts` with the same schedule (a test checks the pairing through Netlify's tooling).
 */
export const PROBES: readonly AnyProbe[] = [healthProbe, outboxProbe, queueProbe, receiptsProbe, trafficProbe, canaryProbe, regionsProbe];

export function findProbe(id: string): AnyProbe | undefined {
  return PROBES.find((p) => p.id === id);
}

export const PROBE_IDS: string[] = PROBES.map((p) => p.id);

/** `probes.<id>` of SENTINEL_SETTINGS: each probe's own schema, defaulted. */
export const ProbeSettings = z.object(
  Object.fromEntries(PROBES.map((p) => [p.id, p.settings.prefault({})])),
);
