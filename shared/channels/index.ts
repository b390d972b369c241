import type { Config } from "../config/index.ts";
import { createAlertmanagerChannel } from "./alertmanager.ts";
import { createPagerDutyChannel } from "./pagerduty.ts";
import { createSlackChannel, SLACK_BUDGET_MS } from "./slack.ts";
import { createWebhookChannel } from "./webhook.ts";
import type { Channel } from "./types.ts";

export type { Channel, ChannelOutcome, ChannelContext } from "./types.ts";

/**
 * Every channel's delivery is bounded by this, and they run in parallel, so a tick's send takes at
 * most this long whatever the number of channels (the tick starts a send only when it fits).
 */
export const SEND_BUDGET_MS = SLACK_BUDGET_MS;

/** The configured channels, in CHANNEL_NAMES order. */
export function createChannels(config: Config, deps: { fetch: typeof fetch; redact: (s: string) => string; now: () => Date }): Channel[] {
  const { channels: settings } = config.settings;
  const common = { statusUrl: config.statusUrl, fetch: deps.fetch, redact: deps.redact, budgetMs: SEND_BUDGET_MS };
  const out: Channel[] = [];
  if (config.slackWebhookUrl) out.push(createSlackChannel({ webhookUrl: config.slackWebhookUrl, statusUrl: config.statusUrl, redact: deps.redact }));
  if (config.channels.pagerduty) out.push(createPagerDutyChannel({ ...common, routingKey: config.channels.pagerduty.routingKey, settings: settings.pagerduty }));
  if (config.channels.alertmanager) out.push(createAlertmanagerChannel({ ...common, url: config.channels.alertmanager.url, settings: settings.alertmanager }));
  if (config.channels.webhook) out.push(createWebhookChannel({ ...common, ...config.channels.webhook, settings: settings.webhook, now: deps.now }));
  return out;
}
