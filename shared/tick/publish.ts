import type { Silence } from "../alerting/silences.ts";
import type { SloStatus } from "../slo/evaluate.ts";
import { buildStatusDocument } from "../status/document.ts";
import type { StatusDocument } from "../status/schema.ts";
import { RegionsSection } from "../probes/regions/definition.ts";
import type { SentinelState } from "./state.ts";
import type { Incident } from "../alerting/incidents.ts";
import type { TickDeps } from "./types.ts";

export interface PublishInput {
  silences: Silence[];
  /** The SLOs as this tick evaluated them. */
  slos: SloStatus[];
  now: Date;
  /** The ledger's incidents: the newest are summarised in the document (shared/status/document.ts RECENT_INCIDENTS). */
  incidents?: Incident[];
}

/**
 * Publish: the status document every status route serves, built from the tick's memory after its
 * decision. Pure. The tick writes it with its memory (`remember`), so a view reads one document.
 */
export function publish(deps: Pick<TickDeps, "infos" | "settings">, state: SentinelState, input: PublishInput): StatusDocument {
  const { now, slos } = input;
  const probes = deps.infos;
  const doc = buildStatusDocument({
    latest: Object.fromEntries(probes.map((p) => [p.id, state.probes[p.id]?.latest ?? null])),
    histories: Object.fromEntries(probes.map((p) => [p.id, state.probes[p.id]?.history ?? []])),
    timelines: Object.fromEntries(probes.map((p) => [p.id, state.probes[p.id]?.timeline ?? []])),
    slos: { evaluatedAt: now.toISOString(), slos: slos.map((s) => ({ ...s, ...(state.sloTotals[s.id] ? { counters: state.sloTotals[s.id] } : {}) })) },
    alerts: state.alerts,
    silences: input.silences,
    monitoring: {
      ...state.monitoring,
      pendingNotifications: state.alerts.pending.length,
      nextTickBy: new Date(now.getTime() + deps.settings.tickIntervalMs).toISOString(),
    },
    ...regionsGrid(state),
    ...(input.incidents ? { incidents: input.incidents } : {}),
  }, { now, probes, staleFactor: deps.settings.staleFactor });
  // The hot part of the past (shared/tick/past.ts): the slots still in memory, compact, and today; a view merges the rest.
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
