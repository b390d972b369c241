import { z } from "zod";
import type { Notification } from "../alerting/notification.ts";

/**
 * Where notifications go. Four channel kinds, at most one of each, each configured by its secret
 * environment variables (shared/config/env.ts) and tuned here, in SENTINEL_SETTINGS.channels; the
 * routes (SENTINEL_SETTINGS.routes) say which notifications each channel gets. A notification goes to
 * the union of the channels of EVERY route it matches (Alertmanager's `continue: true` for all).
 */
export const CHANNEL_NAMES = ["slack", "pagerduty", "alertmanager", "webhook"] as const;
export const ChannelName = z.enum(CHANNEL_NAMES);
export type ChannelName = z.infer<typeof ChannelName>;

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
 * PagerDuty wakes someone up. Channels that are not configured are skipped.
 */
export const DEFAULT_ROUTES: Route[] = [
  { channels: ["slack", "alertmanager", "webhook"] },
  { severity: ["page"], channels: ["pagerduty"] },
];

export const Routes = z.array(Route).max(50).default(DEFAULT_ROUTES);

export const ChannelSettings = z.object({
  pagerduty: z.object({
    /** PagerDuty's Events API v2 endpoint (a EU account uses events.eu.pagerduty.com). */
    eventsUrl: z.url({ protocol: /^https?$/ }).default("https://events.pagerduty.com/v2/enqueue"),
    /** `payload.source` of every event: the system that has the problem. */
    source: z.string().min(1).max(255).default("beacon-pipeline"),
    /** Timeout of one event request, in ms. */
    requestTimeoutMs: z.number().int().min(500).max(10_000).default(5_000),
  }).strict().prefault({}),
  alertmanager: z.object({
    /** Labels added to every alert, e.g. {"team": "beacon"}, for Alertmanager's own routes. */
    labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "a label name is [a-zA-Z_][a-zA-Z0-9_]*"), z.string()).default({}),
    /**
     * A firing alert is re-posted every tick with endsAt this far ahead, in minutes (Prometheus uses
     * 4 × its resend delay): if the sentinel stops, Alertmanager resolves it by itself after that long.
     */
    endsAfterMinutes: z.number().int().min(2).max(60).default(4),
    requestTimeoutMs: z.number().int().min(500).max(10_000).default(5_000),
  }).strict().prefault({}),
  webhook: z.object({
    requestTimeoutMs: z.number().int().min(500).max(10_000).default(5_000),
  }).strict().prefault({}),
}).strict();
export type ChannelSettings = z.infer<typeof ChannelSettings>;

/** The channels a notification is owed, among the configured ones, in CHANNEL_NAMES order. Pure. */
export function routeOf(n: Pick<Notification, "severity" | "probe" | "alertType">, routes: readonly Route[], configured: readonly ChannelName[]): ChannelName[] {
  const picked = new Set<ChannelName>();
  for (const r of routes) {
    if (r.severity && !r.severity.includes(n.severity)) continue;
    if (r.probe && (!n.probe || !r.probe.includes(n.probe))) continue;
    if (r.type && !r.type.includes(n.alertType)) continue;
    for (const c of r.channels) picked.add(c);
  }
  return CHANNEL_NAMES.filter((c) => picked.has(c) && configured.includes(c));
}
