import type { Silence } from "../alerting/silences.ts";
import type { Published } from "./published.ts";
import type { SloStatus } from "../slo/evaluate.ts";
import { buildStatusDocument, type ProbeInfo } from "../status/document.ts";
import type { StatusDocument } from "../status/schema.ts";
import { RegionsSection } from "../probes/regions/definition.ts";
import type { SentinelState } from "./state.ts";
import type { Incident } from "../alerting/incidents.ts";
import { HISTORY_DAYS } from "../status/days.ts";
import type { TimelineBucket } from "../status/history.ts";
import type { PastDays, PastSlots } from "./past.ts";


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
 * Publish: the status document every status route serves, built from the tick's memory, what it
 * published and the past (shared/tick/past.ts) when the caller read it. Pure. `incidents` are the
 * ledger's: the newest are summarised (shared/status/document.ts RECENT_INCIDENTS). Without the past
 * (a tick's own report), each timeline holds the slots still in memory and the history today alone.
 */
export function publish(view: PublishView, state: SentinelState, pub: Published, more: { incidents?: Incident[]; past?: { slots?: PastSlots; days?: PastDays } } = {}): StatusDocument {
  const now = new Date(pub.at);
  const probes = view.infos;
  const doc = buildStatusDocument({
    latest: Object.fromEntries(probes.map((p) => [p.id, state.probes[p.id]?.latest ?? null])),
    histories: Object.fromEntries(probes.map((p) => [p.id, state.probes[p.id]?.history ?? []])),
    timelines: Object.fromEntries(probes.map((p) => [p.id, buckets(more.past?.slots?.slots[p.id], state.probes[p.id]?.timeline)])),
    slos: { evaluatedAt: pub.at, slos: pub.slos.map((s) => ({ ...s, ...(state.sloTotals[s.id] ? { counters: state.sloTotals[s.id] } : {}) })) },
    alerts: state.alerts,
    silences: pub.silences,
    monitoring: {
      ...state.monitoring,
      pendingNotifications: state.alerts.pending.length,
      nextTickBy: new Date(now.getTime() + pub.tickIntervalMs).toISOString(),
    },
    ...regionsGrid(state),
    ...(more.incidents ? { incidents: more.incidents } : {}),
  }, { now, probes, staleFactor: view.staleFactor });
  const today = state.today;
  const closed = (more.past?.days?.days ?? []).filter((d) => d.day !== today?.day);
  return { ...doc, history: { days: [...closed, ...(today ? [today] : [])].slice(-HISTORY_DAYS) } };
}

/** A probe's closed slots and those still in memory, by slot (memory wins). */
function buckets(closed: TimelineBucket[] = [], hot: TimelineBucket[] = []): TimelineBucket[] {
  return [...new Map([...closed, ...hot].map((b) => [b.i, b])).values()];
}

/** The region × model grid the `regions` probe keeps in its state, when it is there and well formed. */
function regionsGrid(state: SentinelState): { regions?: RegionsSection } {
  const kept = state.probes["regions"]?.state as { grid?: unknown } | undefined;
  const grid = RegionsSection.safeParse(kept?.grid);
  return grid.success ? { regions: grid.data } : {};
}
