import type { Silence } from "../alerting/silences.ts";
import type { Published } from "./published.ts";
import type { SloStatus } from "../slo/evaluate.ts";
import { buildStatusDocument, type ProbeInfo } from "../status/document.ts";
import type { StatusDocument } from "../status/schema.ts";
import { RegionsSection } from "../probes/regions/definition.ts";
import type { SentinelState } from "./state.ts";
import type { Incident } from "../alerting/incidents.ts";


/** What the document needs besides the memory: the probes as configured and when one counts as stale. */
export interface PublishView {
  infos: ProbeInfo[];
  staleFactor: number;
}

/** The tick's publication, from its decision (kept in `state.published` by the tick). */
export function published(input: { silences: Silence[]; slos: SloStatus[]; now: Date; tickIntervalMs: number }): Published {
  return { at: input.now.toISOString(), slos: input.slos, silences: input.silences, tickIntervalMs: input.tickIntervalMs };
}

/**
 * Publish: the status document every status route serves, built from the tick's memory and what it
 * published. Pure. `incidents` are the ledger's: the newest are summarised (shared/status/document.ts
 * RECENT_INCIDENTS). The timelines hold the slots still in memory, and `slots` and `history` carry the
 * hot part of the past, which a view merges with the closed part (shared/tick/past.ts mergePast).
 */
export function publish(view: PublishView, state: SentinelState, pub: Published, incidents?: Incident[]): StatusDocument {
  const now = new Date(pub.at);
  const probes = view.infos;
  const doc = buildStatusDocument({
    latest: Object.fromEntries(probes.map((p) => [p.id, state.probes[p.id]?.latest ?? null])),
    histories: Object.fromEntries(probes.map((p) => [p.id, state.probes[p.id]?.history ?? []])),
    timelines: Object.fromEntries(probes.map((p) => [p.id, state.probes[p.id]?.timeline ?? []])),
    slos: { evaluatedAt: pub.at, slos: pub.slos.map((s) => ({ ...s, ...(state.sloTotals[s.id] ? { counters: state.sloTotals[s.id] } : {}) })) },
    alerts: state.alerts,
    silences: pub.silences,
    monitoring: {
      ...state.monitoring,
      pendingNotifications: state.alerts.pending.length,
      nextTickBy: new Date(now.getTime() + pub.tickIntervalMs).toISOString(),
    },
    ...regionsGrid(state),
    ...(incidents ? { incidents } : {}),
  }, { now, probes, staleFactor: view.staleFactor });
  return {
    ...doc,
    slots: Object.fromEntries(probes.map((p) => [p.id, state.probes[p.id]?.timeline ?? []])),
    ...(state.today ? { history: { days: [state.today] } } : {}),
  };
}

/** The region × model grid the `regions` probe keeps in its state, when it is there and well formed. */
function regionsGrid(state: SentinelState): { regions?: RegionsSection } {
  const kept = state.probes["regions"]?.state as { grid?: unknown } | undefined;
  const grid = RegionsSection.safeParse(kept?.grid);
  return grid.success ? { regions: grid.data } : {};
}
