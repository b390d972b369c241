import type { ProbeResult } from "../result.ts";
import type { Notification } from "../alerting/notification.ts";
import type { Silence } from "../alerting/silences.ts";
import type { SloStatus } from "../slo/evaluate.ts";
import { decide as evaluateFanIn, type FanInDecision } from "../fanin/evaluate.ts";
import { assignChannels } from "../channels/dispatch.ts";
import { collapsePending } from "./pending.ts";
import type { SentinelState } from "./state.ts";
import type { TickDeps } from "./types.ts";

export type DecideDeps = Pick<TickDeps, "policy" | "channels" | "routes" | "settings">;

export interface DecideInput {
  /** This tick's results, in run order. */
  results: ProbeResult[];
  silences: Silence[];
  now: Date;
}

/** What this tick decided: the SLOs as evaluated now, and the notifications it newly owes. */
export interface Decision {
  slos: SloStatus[];
  notifications: Notification[];
}

/**
 * Decide: the fan-in's verdict on the results in hand (SLOs with their counters, alerts with
 * silences and dependencies), every notification routed to the channels owed it and queued (the
 * queue kept under `pendingCap`), and the tick counting itself in `monitoring`. Updates `state`.
 */
export function decide(deps: DecideDeps, state: SentinelState, input: DecideInput): Decision {
  const { results, now } = input;
  const decision = evaluateFanIn({ results, counters: state.counters, state: state.alerts, silences: input.silences }, deps.policy, now);
  applyCounters(state, decision);
  countSloEvents(state, decision.slos, results);
  state.alerts = decision.state;
  const configured = deps.channels.map((c) => c.name);
  const routed = assignChannels([...state.alerts.pending, ...decision.notifications], deps.routes, configured);
  const queued = collapsePending(routed, deps.settings.pendingCap, now);
  state.alerts.pending = queued.pending;
  state.monitoring.collapsedNotifications += queued.collapsed;
  state.monitoring.lastTickAt = now.toISOString();
  state.monitoring.ticks += 1;
  return { slos: decision.slos, notifications: decision.notifications };
}

/** The fan-in's counter increments and pruned fields, applied to the memory's SLI hashes (empty ones dropped). */
function applyCounters(state: SentinelState, decision: FanInDecision) {
  for (const [source, ops] of Object.entries(decision.increments)) {
    const hash = (state.counters[source] ??= {});
    for (const [field, by] of ops) hash[field] = (hash[field] ?? 0) + by;
  }
  for (const [source, fields] of Object.entries(decision.prune)) for (const f of fields) delete state.counters[source]?.[f];
  for (const [source, hash] of Object.entries(state.counters)) if (Object.keys(hash).length === 0) delete state.counters[source];
}

/** Adds this tick's events to each SLO's lifetime counters, from the source the SLO uses now. */
function countSloEvents(state: SentinelState, slos: SloStatus[], results: ProbeResult[]) {
  for (const slo of slos) {
    if (!slo.source) continue;
    for (const r of results) {
      for (const [name, counts] of Object.entries(r.events ?? {})) {
        if (`${r.probe}:${name}` !== slo.source) continue;
        const totals = (state.sloTotals[slo.id] ??= { good: 0, total: 0 });
        totals.good += counts.good;
        totals.total += counts.total;
      }
    }
  }
}
