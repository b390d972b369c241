import { createRedactor } from "../redact.ts";
import { postJson, type PostOutcome } from "./http.ts";
import { dedupKey } from "./pagerduty.ts";
import { routeOf, type Route } from "./routes.ts";
import type { ChannelDeployment } from "./catalog.ts";

/**
 * Tells the channels that can carry it that an operator acknowledged a firing alert, at once (the
 * operator waits for the answer): PagerDuty an `acknowledge` event for the alert's dedup_key (its
 * incident stops escalating), Slack a one-line note. Only the channels the alert is routed to; each
 * one request within its timeout, never retried (the answer says what happened). Never throws.
 */
export interface AckedAlert {
  key: string;
  type: "check" | "missing" | "blind" | "slo";
  severity: "page" | "ticket" | "warning";
  probe?: string;
  title: string;
}

export async function announceAck(
  alert: AckedAlert, ack: { by: string; comment: string; until: string },
  o: { deployment: ChannelDeployment & { slackWebhookUrl?: string }; settings: { routes: readonly Route[]; channels: { pagerduty: { eventsUrl: string; requestTimeoutMs: number } } }; fetch: typeof fetch; redact: (s: string) => string },
): Promise<Record<string, string>> {
  const configured = [...(o.deployment.slackWebhookUrl ? ["slack"] : []), ...(o.deployment.channels.pagerduty ? ["pagerduty"] : [])];
  const routed = routeOf({ severity: alert.severity, probe: alert.probe, alertType: alert.type }, o.settings.routes, configured);
  const said = (r: PostOutcome) => (r.kind === "ok" ? "sent" : r.error);
  const out: Record<string, string> = {};
  const pd = o.deployment.channels.pagerduty;
  if (pd && routed.includes("pagerduty")) {
    const scrub = (s: string) => createRedactor([pd.PAGERDUTY_ROUTING_KEY])(o.redact(s));
    const body = JSON.stringify({ routing_key: pd.PAGERDUTY_ROUTING_KEY, event_action: "acknowledge", dedup_key: dedupKey(alert.key) });
    out.pagerduty = said(await postJson(o.settings.channels.pagerduty.eventsUrl, body, { fetch: o.fetch, name: "PagerDuty", timeoutMs: o.settings.channels.pagerduty.requestTimeoutMs, scrub }));
  }
  const slack = o.deployment.slackWebhookUrl;
  if (slack && routed.includes("slack")) {
    const scrub = (s: string) => createRedactor([slack])(o.redact(s));
    const text = o.redact(`:eyes: Acknowledged: ${alert.title} (${alert.key}) by ${ack.by} until ${ack.until}: ${ack.comment}`).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    out.slack = said(await postJson(slack, JSON.stringify({ text }), { fetch: o.fetch, name: "Slack", timeoutMs: 5_000, scrub }));
  }
  return out;
}
