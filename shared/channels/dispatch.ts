import type { Notification } from "../alerting/notification.ts";
import type { AlertRecord } from "../alerting/state.ts";
import type { ChannelName } from "./catalog.ts";
import { routeOf, type Route } from "./routes.ts";
import type { Channel, ChannelOutcome } from "./types.ts";

/**
 * The per-channel delivery record. Each pending notification carries the channels still owed it
 * (`channels`); a channel's delivery settles only its own entries, so one channel down never blocks
 * another (they are sent in parallel, each bounded) and one that succeeded is never sent again
 * because another failed. A notification leaves the queue once no channel is owed it.
 */

/** Stamps new notifications with their channels; an older one without (decided before channels existed) is routed now. */
export function assignChannels(pending: Notification[], routes: readonly Route[], configured: readonly string[]): Notification[] {
  return pending.map((n) => (n.channels ? n : { ...n, channels: routeOf(n, routes, configured) }));
}

/** Alerts a channel keeps posting while they fire: announced (a firing notification was queued) and routed to it. */
export function firingFor(channel: string, alerts: AlertRecord[], routes: readonly Route[], configured: readonly string[]): AlertRecord[] {
  return alerts.filter((a) => a.firing && a.notified && routeOf({ severity: a.severity, probe: a.probe, alertType: a.type }, routes, configured).includes(channel as ChannelName));
}

export interface ChannelReport {
  channel: ChannelName;
  owed: number;
  delivered: number;
  abandoned: number;
  error?: string;
}

/** Runs every channel that has work, in parallel, each within its budget (an overrun counts as a failure). */
export async function deliverAll(
  channels: Channel[], pending: Notification[], firing: (c: Channel) => AlertRecord[], now: Date, retries: (channel: string) => ReadonlySet<string> | undefined = () => undefined,
): Promise<Map<string, ChannelOutcome & { owed: number }>> {
  const work = channels
    .map((c) => ({ c, owed: pending.filter((n) => n.channels?.includes(c.name)), firing: c.refiresWhileFiring ? firing(c) : [] }))
    .filter((w) => w.owed.length > 0 || w.firing.length > 0);
  const settled = await Promise.all(work.map(async (w) => {
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<ChannelOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ delivered: [], abandoned: [], error: `${w.c.name} took longer than ${w.c.budgetMs} ms` }), w.c.budgetMs + 500);
    });
    const outcome = await Promise.race([
      w.c.deliver(w.owed, { now, firing: w.firing, retries: retries(w.c.name) ?? new Set() }).catch((error: unknown): ChannelOutcome => ({ delivered: [], abandoned: [], error: `${w.c.name} failed: ${error instanceof Error ? error.message : String(error)}` })),
      overrun,
    ]);
    clearTimeout(timer);
    return [w.c.name, { ...outcome, owed: w.owed.length }] as const;
  }));
  return new Map(settled);
}

/** Removes each channel's settled notifications from the queue. Pure. */
export function settle(pending: Notification[], outcomes: Map<string, ChannelOutcome>): Notification[] {
  const done = new Map([...outcomes].map(([name, o]) => [name, new Set([...o.delivered, ...o.abandoned])]));
  return pending
    .map((n) => ({ ...n, channels: (n.channels ?? []).filter((c) => !done.get(c)?.has(n.id)) }))
    .filter((n) => n.channels.length > 0);
}
