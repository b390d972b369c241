import { z } from "zod";
import type { Notification } from "../alerting/notification.ts";
import { CHANNEL_NAMES, ChannelName } from "./catalog.ts";

/**
 * Where notifications go: the routes (SENTINEL_SETTINGS.routes) say which notifications each channel
 * of the catalog gets. A notification goes to the union of the channels of EVERY route it matches
 * (Alertmanager's `continue: true` for all).
 */

const Severity = z.enum(["page", "ticket", "warning"]);

/** One route: a notification matching every given field goes to `channels`. An absent field matches all. */
export const Route = z.object({
  /** Severities this route takes; absent: all. */
  severity: z.array(Severity).min(1).optional(),
  /** Probe ids this route takes (SLO alerts have no probe: match them with `type`); absent: all. */
  probe: z.array(z.string().min(1)).min(1).optional(),
  /** Alert types this route takes (check, missing, blind, slo); absent: all. */
  type: z.array(z.enum(["check", "missing", "blind", "slo"])).min(1).optional(),
  channels: z.array(ChannelName).min(1),
}).strict();
export type Route = z.infer<typeof Route>;

/**
 * The default: everything to Slack, Alertmanager and the webhook; only pages to PagerDuty, because
 * PagerDuty wakes someone up; pages and tickets to email (warnings would bury an inbox). Channels that
 * are not configured are skipped.
 */
export const DEFAULT_ROUTES: Route[] = [
  { channels: ["slack", "alertmanager", "webhook"] },
  { severity: ["page"], channels: ["pagerduty"] },
  { severity: ["page", "ticket"], channels: ["email"] },
];

export const Routes = z.array(Route).max(50).default(DEFAULT_ROUTES);


/** The channels a notification is owed, among the configured ones, in CHANNEL_NAMES order. Pure. */
export function routeOf(n: Pick<Notification, "severity" | "probe" | "alertType">, routes: readonly Route[], configured: readonly string[]): ChannelName[] {
  const picked = new Set<ChannelName>();
  for (const r of routes) {
    if (r.severity && !r.severity.includes(n.severity)) continue;
    if (r.probe && (!n.probe || !r.probe.includes(n.probe))) continue;
    if (r.type && !r.type.includes(n.alertType)) continue;
    for (const c of r.channels) picked.add(c);
  }
  return CHANNEL_NAMES.filter((c) => picked.has(c) && configured.includes(c));
}
