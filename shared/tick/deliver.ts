import type { AlertRecord } from "../alerting/state.ts";
import type { Notification } from "../alerting/notification.ts";
import type { Channel } from "../channels/types.ts";
import { deliverAll, firingFor, settle } from "../channels/dispatch.ts";
import type { SentinelState } from "./state.ts";
import { recordOutcomes, type IntentPlan, type Ledger } from "../alerting/ledger.ts";
import type { TickDeps } from "./types.ts";

export type DeliverDeps = Pick<TickDeps, "channels" | "routes" | "log" | "now" | "settings">;

/** What this tick can send, decided before the memory is written. */
export interface DeliveryPlan {
  /** The notifications owed to at least one configured channel. */
  pending: Notification[];
  /** The alerts firing now that a channel re-posts while they fire (Alertmanager). */
  firing: (c: Channel) => AlertRecord[];
  /** Some channel has something to send, and the tick has the time to send it. */
  canSend: boolean;
  /** The outcome must be written after sending (something is owed), so the lock is kept through the send. */
  recordOutcome: boolean;
  /** Notifications no configured channel is routed: logged, not sent, not kept. */
  unsent: number;
}

/**
 * What the send will be: notifications routed to no configured channel are logged once and dropped
 * (counted as unsent); a send starts only when its budget fits in what is left of the tick, and
 * only in a run that sends (`send`: a per-probe function leaves what it decided to the tick).
 * Updates `state.alerts.pending`.
 */
export function planDelivery(deps: DeliverDeps, state: SentinelState, remainingMs: () => number, send = true): DeliveryPlan {
  let unsent = 0;
  const unrouted = state.alerts.pending.filter((n) => !n.channels?.length);
  if (unrouted.length > 0) {
    // Nothing to send with: say so once, and do not pile them up.
    deps.log.info(deps.channels.length ? "notifications decided, no route sends them to a configured channel" : "notifications decided, no channel configured", { count: unrouted.length, keys: unrouted.map((n) => n.alertKey) });
    unsent = unrouted.length;
    state.alerts.pending = state.alerts.pending.filter((n) => n.channels?.length);
  }
  const pending = state.alerts.pending;
  const alerts = Object.values(state.alerts.alerts);
  const configured = deps.channels.map((c) => c.name);
  const firing = (c: Channel) => firingFor(c.name, alerts, deps.routes, configured);
  const hasWork = deps.channels.some((c) => pending.some((n) => n.channels?.includes(c.name)) || (c.refiresWhileFiring && firing(c).length > 0));
  const canSend = send && hasWork && remainingMs() > deps.settings.sendBudgetMs + 2_000;
  if (send && hasWork && !canSend) deps.log.warn("no time left to send this tick; kept pending for the next", { pending: pending.length, remainingMs: remainingMs() });
  // The lock is kept through the send only when its outcome must be recorded (something is owed);
  // re-posting what fires (Alertmanager) is idempotent and leaves nothing to record.
  return { pending, firing, canSend, recordOutcome: canSend && pending.length > 0, unsent };
}

/**
 * Deliver: every channel with work, in parallel, each within its budget. Each channel's outcome is
 * counted in `monitoring.channels`, and the pending queue keeps only what a channel still owes
 * (what may have been delivered is counted, never repeated). Returns the deliveries made.
 */
export async function deliver(deps: DeliverDeps, state: SentinelState, plan: DeliveryPlan, ledger?: { ledger: Ledger; intents: IntentPlan }): Promise<number> {
  const intents = ledger?.intents;
  // What a previous tick confirmed, or gave up on (Slack, retried once after an unknown outcome), is not sent.
  const held = (c: string, id: string) => Boolean(intents?.confirmed.get(c)?.has(id) || intents?.givenUp.get(c)?.has(id));
  const sendable = intents ? plan.pending.map((n) => ({ ...n, channels: (n.channels ?? []).filter((c) => !held(c, n.id)) })) : plan.pending;
  const outcomes = await deliverAll(deps.channels, sendable, plan.firing, deps.now(), (c) => intents?.retries.get(c));
  for (const [map, into] of [[intents?.confirmed, "delivered"], [intents?.givenUp, "abandoned"]] as const) {
    for (const [c, ids] of map ?? []) {
      const o = outcomes.get(c) ?? outcomes.set(c, { delivered: [], abandoned: [], owed: 0 }).get(c)!;
      o[into] = [...o[into], ...ids];
      o.owed += ids.size;
    }
  }
  if (intents?.givenUp.size) deps.log.warn("sent once and retried once with no known outcome; not sent again (the channel cannot deduplicate)", { channels: Object.fromEntries([...intents.givenUp].map(([c, ids]) => [c, [...ids]])) });
  if (ledger) recordOutcomes(ledger.ledger, plan.pending, outcomes, deps.now());
  let delivered = 0;
  const at = deps.now().toISOString();
  for (const [name, o] of outcomes) {
    delivered += o.delivered.length;
    const failed = o.owed - o.delivered.length - o.abandoned.length;
    const rec = (state.monitoring.channels[name] ??= { delivered: 0, failed: 0, unknown: 0 });
    rec.delivered += o.delivered.length;
    rec.failed += failed;
    rec.unknown += o.abandoned.length;
    if (o.delivered.length) rec.lastDeliveredAt = at;
    state.monitoring.failedSends += failed;
    // The receiver may have these: sending again risks a duplicate, so they are counted and not repeated.
    state.monitoring.unknownDeliveries += o.abandoned.length;
    if (o.error) {
      rec.lastError = o.error;
      rec.lastErrorAt = at;
      state.monitoring.lastSendError = `${name}: ${o.error}`;
      if (o.abandoned.length) deps.log.warn("notification delivery unknown; not repeated", { channel: name, count: o.abandoned.length, error: o.error });
      else if (failed > 0) deps.log.warn("notification send failed; kept pending for the next tick", { channel: name, count: failed, error: o.error });
      else deps.log.warn("re-posting the firing alerts failed; the next tick posts them again", { channel: name, error: o.error });
    }
  }
  state.alerts.pending = settle(plan.pending, outcomes);
  return delivered;
}
