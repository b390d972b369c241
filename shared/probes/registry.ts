import { CATALOG } from "./catalog.ts";
import { canaryProbe } from "./canary/index.ts";
import { healthProbe } from "./health/index.ts";
import { outboxProbe } from "./outbox/index.ts";
import { queueProbe } from "./queue/index.ts";
import { receiptsProbe } from "./receipts/index.ts";
import { regionsProbe } from "./regions/index.ts";
import { trafficProbe } from "./traffic/index.ts";
import type { AnyProbe } from "./types.ts";

/**
 * Every probe with its implementation, once, in the catalog's order: what the tick and manual runs
 * import (the status functions import catalog.ts alone, and ship no probe code). A test checks that
 * this list and the catalog agree.
 */
export const PROBES: readonly AnyProbe[] = [healthProbe, outboxProbe, queueProbe, receiptsProbe, trafficProbe, canaryProbe, regionsProbe];

export function findProbe(id: string): AnyProbe | undefined {
  return PROBES.find((p) => p.id === id);
}

export { PROBE_IDS, ProbeSettings } from "./catalog.ts";

/** The catalog's ids, in order, for the registry-matches-catalog test. */
export const CATALOG_IDS: string[] = CATALOG.map((p) => p.id);
