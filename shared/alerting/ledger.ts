import { z } from "zod";
import { Notification } from "./notification.ts";
import type { AlertRecord, AlertState } from "./state.ts";
import { Incident } from "./incidents.ts";

/**
 * The ledger: what each channel was told about each alert, kept in its own small store key apart from
 * the tick's memory, so a lost or damaged memory can be rebuilt from it and no announced alert is
 * forgotten. Per alert (its key) and channel: the state announced (firing or resolved), the
 * notification, when, the channel's own key for it (PagerDuty's dedup_key, Alertmanager's label
 * fingerprint, the webhook's idempotency key, Slack's message), and the phase:
 *
 *   intent  recorded in the write before the send: the send may have happened, its outcome was never recorded
 *   sent    the channel confirmed it
 *   unknown the request went out and no answer came (the channel did not repeat it)
 *   failed  the channel refused it or could not be reached: not delivered, sent again as usual
 *
 * A notification found in `intent` by a later tick is one whose outcome write was lost: a channel
 * that deduplicates gets it again with the same key; Slack, which cannot, gets at most one retry,
 * marked as such. Bounded: alerts resolved on every channel are pruned after LEDGER_KEEP_DAYS, and at
 * most LEDGER_CAP alerts are kept (closed ones dropped first, oldest first).
 */

export const LEDGER_KEEP_DAYS = 7;
export const LEDGER_CAP = 200;
/** Attempts at one notification on a channel that cannot deduplicate (Slack): the first and one retry. */
export const NON_IDEMPOTENT_ATTEMPTS = 2;
/** Shown on a message sent again after an unknown outcome, where the channel cannot deduplicate. */
export const RETRY_MARK = "(retry: the previous send's outcome is unknown)";

export const LedgerEntry = z.object({
  /** The notification (Notification.id) this entry is about. */
  id: z.string(),
  state: z.enum(["firing", "resolved"]),
  phase: z.enum(["intent", "sent", "unknown", "failed"]),
  at: z.string(),
  /** The channel's own key for it. */
  key: z.string(),
  attempts: z.number().int().positive().default(1),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

/** An alert as the ledger remembers it: enough to rebuild its record, and each channel's entry. */
export const LedgerAlert = Notification.pick({ alertType: true, stage: true, probe: true, check: true, slo: true, severity: true, since: true, title: true }).extend({
  channels: z.record(z.string(), LedgerEntry).default({}),
  /** When every channel's entry became a settled resolution (pruned LEDGER_KEEP_DAYS later). */
  closedAt: z.string().optional(),
});
export type LedgerAlert = z.infer<typeof LedgerAlert>;

export const Ledger = z.object({
  version: z.literal(1).default(1),
  alerts: z.record(z.string(), LedgerAlert).default({}),
  /** Every incident's story, oldest first (shared/alerting/incidents.ts): kept here, it costs no store command of its own. */
  incidents: z.array(Incident).default([]),
  /** The last incident id given. */
  incidentSeq: z.number().int().nonnegative().default(0),
});
export type Ledger = z.infer<typeof Ledger>;

export function emptyLedger(): Ledger {
  return Ledger.parse({});
}

/** What a channel tells the ledger about itself. */
export interface LedgerChannel {
  name: string;
  /** It deduplicates by its own key: a repeat is harmless (PagerDuty, Alertmanager, the webhook). */
  deduplicates?: boolean;
  /** Its own key for a notification. */
  keyOf?(n: Notification): string;
}

/** What the intents say about this tick's send, per channel: notification ids to send as retries, or not to send. */
export interface IntentPlan {
  /** Sent before after an unknown outcome: Slack marks them. */
  retries: Map<string, Set<string>>;
  /** Already confirmed sent: settled without sending. */
  confirmed: Map<string, Set<string>>;
  /** Their outcome is unknown and the channel cannot deduplicate them; retried once already: not sent again. */
  givenUp: Map<string, Set<string>>;
}

const tracked = (n: Notification) => (n.kind === "firing" || n.kind === "resolved") && !n.alertKey.startsWith("sentinel/");

function add(map: Map<string, Set<string>>, channel: string, id: string) {
  (map.get(channel) ?? map.set(channel, new Set()).get(channel)!).add(id);
}

/**
 * Records the intent to send each firing or resolved notification a channel is owed, before the send,
 * and says which of them a previous tick may already have sent. Updates `ledger`.
 */
export function recordIntents(ledger: Ledger, pending: Notification[], channels: readonly LedgerChannel[], now: Date): IntentPlan {
  const plan: IntentPlan = { retries: new Map(), confirmed: new Map(), givenUp: new Map() };
  const at = now.toISOString();
  const byName = new Map(channels.map((c) => [c.name, c]));
  for (const n of pending) {
    if (!tracked(n)) continue;
    const alert = (ledger.alerts[n.alertKey] ??= { ...describe(n), channels: {} });
    Object.assign(alert, describe(n));
    delete alert.closedAt;
    for (const name of n.channels ?? []) {
      const channel = byName.get(name);
      if (!channel) continue;
      const entry = alert.channels[name];
      if (entry && entry.id === n.id) {
        if (entry.phase === "sent") {
          add(plan.confirmed, name, n.id);
          continue;
        }
        if (entry.phase === "intent" || entry.phase === "unknown") {
          if (!channel.deduplicates && entry.attempts >= NON_IDEMPOTENT_ATTEMPTS) {
            add(plan.givenUp, name, n.id);
            entry.phase = "unknown";
            continue;
          }
          add(plan.retries, name, n.id);
          entry.attempts += 1;
        }
        // `attempts` counts the sends that may have reached the channel; a failed one did not.
        Object.assign(entry, { phase: "intent", at });
        continue;
      }
      alert.channels[name] = { id: n.id, state: n.kind as "firing" | "resolved", phase: "intent", at, key: channel.keyOf?.(n) ?? n.id, attempts: 1 };
    }
  }
  return plan;
}

/** The send's outcome per notification and channel: delivered, unknown (abandoned), or failed (still owed). Updates `ledger`. */
export function recordOutcomes(ledger: Ledger, sent: Notification[], outcomes: Map<string, { delivered: string[]; abandoned: string[] }>, now: Date): void {
  const at = now.toISOString();
  for (const n of sent) {
    if (!tracked(n)) continue;
    const alert = ledger.alerts[n.alertKey];
    if (!alert) continue;
    for (const [name, o] of outcomes) {
      const entry = alert.channels[name];
      if (!entry || entry.id !== n.id || entry.phase !== "intent") continue;
      entry.phase = o.delivered.includes(n.id) ? "sent" : o.abandoned.includes(n.id) ? "unknown" : "failed";
      entry.at = at;
    }
    const entries = Object.values(alert.channels);
    if (entries.length && entries.every((e) => e.state === "resolved" && e.phase !== "intent" && e.phase !== "failed")) alert.closedAt ??= at;
  }
}

/** Drops alerts closed more than LEDGER_KEEP_DAYS ago, then the oldest closed (then oldest) beyond LEDGER_CAP. Updates `ledger`. */
export function pruneLedger(ledger: Ledger, now: Date): void {
  const cutoff = now.getTime() - LEDGER_KEEP_DAYS * 86_400_000;
  for (const [key, a] of Object.entries(ledger.alerts)) if (a.closedAt && Date.parse(a.closedAt) < cutoff) delete ledger.alerts[key];
  const keys = Object.keys(ledger.alerts);
  if (keys.length <= LEDGER_CAP) return;
  const order = keys.sort((x, y) => rank(ledger.alerts[x]!) - rank(ledger.alerts[y]!));
  for (const key of order.slice(0, keys.length - LEDGER_CAP)) delete ledger.alerts[key];
}

function rank(a: LedgerAlert): number {
  return (a.closedAt ? 0 : 1e15) + Date.parse(a.closedAt ?? a.since);
}

/** The alert key of the note "memory lost at T, rebuilt from the ledger" (a reminder: it changes no alert's state). */
export const MEMORY_LOST_KEY = "sentinel/memory-lost";

/** The note sent once to every channel holding open alerts after the memory was rebuilt from the ledger. */
export function memoryLostNote(ledger: Ledger, rebuilt: string[], reason: "missing" | "unreadable" | "stale", now: Date, from: "ledger" | "durable copy" = "ledger"): Notification | undefined {
  const open = openAlerts(ledger).filter((o) => rebuilt.includes(o.key));
  const channels = [...new Set(open.flatMap((o) => o.channels))];
  if (!channels.length) return undefined;
  const at = now.toISOString();
  return {
    id: `${MEMORY_LOST_KEY}@${at}`, kind: "reminder", alertKey: MEMORY_LOST_KEY, alertType: "check", stage: "sentinel", severity: "warning",
    title: `memory lost at ${at}, rebuilt from the ${from === "ledger" ? "ledger" : "ledger's durable copy"}`,
    message: `the sentinel's stored memory was ${reason}; ${open.length} open alert(s) it had announced were rebuilt from the ${from === "ledger" ? "ledger" : "ledger's durable copy (the store lost the ledger too)"} and stay open: each is resolved once when its cause clears, none is announced again`,
    observed: open.length, threshold: null, evidence: open.slice(0, 10).map((o) => `${o.key} (firing since ${o.alert.since})`), evidenceTotal: open.length, since: at, channels,
  };
}

/** The alerts some channel was told (or may have been told) are firing, with those channels. */
export function openAlerts(ledger: Ledger): { key: string; alert: LedgerAlert; channels: string[] }[] {
  return Object.entries(ledger.alerts).flatMap(([key, alert]) => {
    const channels = Object.entries(alert.channels).filter(([, e]) => e.state === "firing" && e.phase !== "failed").map(([c]) => c);
    return channels.length ? [{ key, alert, channels }] : [];
  });
}

/**
 * Rebuilds the alert memory of a lost state from the ledger: every alert a channel was told is firing
 * becomes a firing, announced record again, so the evaluation resolves it (once) when its cause
 * clears and never announces it as new. Returns the alerts rebuilt. Updates `alerts`.
 */
export function rebuildAlerts(alerts: AlertState, ledger: Ledger): string[] {
  const rebuilt: string[] = [];
  for (const { key, alert } of openAlerts(ledger)) {
    // A stale state may still know the alert as announced: kept as it is.
    if (alerts.alerts[key]?.firing && alerts.alerts[key]?.notified) continue;
    const record: AlertRecord = {
      key, type: alert.alertType, stage: alert.stage, ...(alert.probe ? { probe: alert.probe } : {}), ...(alert.check ? { check: alert.check } : {}), ...(alert.slo ? { slo: alert.slo } : {}),
      recent: "", passesInRow: 0, firing: true, since: alert.since, notified: true, lastNotifiedAt: alert.since, severity: alert.severity,
      snapshot: { title: alert.title, message: "rebuilt from the ledger after the sentinel's memory was lost", observed: null, threshold: null, evidence: [], evidenceTotal: 0 },
    };
    alerts.alerts[key] = record;
    rebuilt.push(key);
  }
  return rebuilt;
}

function describe(n: Notification) {
  return {
    alertType: n.alertType, stage: n.stage, severity: n.severity, since: n.since, title: n.title.slice(0, 200),
    ...(n.probe ? { probe: n.probe } : {}), ...(n.check ? { check: n.check } : {}), ...(n.slo ? { slo: n.slo } : {}),
  };
}
