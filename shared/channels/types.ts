import { z } from "zod";
import type { Notification } from "../alerting/notification.ts";
import type { AlertRecord } from "../alerting/state.ts";

/** What a channel gets besides the notifications it is owed. */
export interface ChannelContext {
  now: Date;
  /** Alerts firing now that were announced and are routed to this channel (Alertmanager re-posts them). */
  firing: AlertRecord[];
  /**
   * Ids of the owed notifications a previous tick may already have sent (its outcome was never
   * recorded): a channel that deduplicates sends them with the same key; Slack marks them as retries.
   */
  retries?: ReadonlySet<string>;
}

/**
 * How one delivery ended, per notification id: delivered, abandoned (the receiver may have it and a
 * repeat could duplicate it: counted, never repeated), or neither (still owed: the next tick retries).
 */
export interface ChannelOutcome {
  delivered: string[];
  abandoned: string[];
  /** Why the rest are still owed, or why some were abandoned; never carries a secret. */
  error?: string;
}

/** A place notifications go. Delivery never throws and takes at most `budgetMs`. */
export interface Channel {
  /** Its name in the catalog (catalog.ts CHANNEL_NAMES). */
  name: string;
  budgetMs: number;
  /** Firing alerts are posted every tick while they fire, even with nothing owed (Alertmanager). */
  refiresWhileFiring?: boolean;
  /** The receiver deduplicates by the channel's own key, so a repeat is harmless (shared/alerting/ledger.ts). */
  deduplicates?: boolean;
  /** The channel's own key for a notification, as the ledger records it (default: the notification id). */
  keyOf?(n: Notification): string;
  deliver(owed: Notification[], context: ChannelContext): Promise<ChannelOutcome>;
}

/**
 * The channels' secrets, as the configuration reads them from the environment (shared/config: the one
 * module that reads it); a channel is configured when its entry is present.
 */
export interface ChannelDeployment {
  statusUrl?: string;
  slackWebhookUrl?: string;
  channels: {
    pagerduty?: { routingKey: string };
    alertmanager?: { url: string };
    webhook?: { url: string; secret: string };
  };
}

/** What a channel is built from: the deployment, its own settings, and the shared clients. */
export interface ChannelBuild<S> {
  deployment: ChannelDeployment;
  settings: S;
  fetch: typeof fetch;
  redact: (s: string) => string;
  now: () => Date;
  /** The most a delivery may take (catalog.ts SEND_BUDGET_MS). */
  budgetMs: number;
}

/**
 * A channel as the catalog lists it: its name, the variable that switches it on (named in
 * configuration problems), its part of SENTINEL_SETTINGS.channels with defaults (absent: none), and
 * how to build it when the deployment configures it.
 */
export interface ChannelDefinition<S = undefined> {
  name: string;
  variable: string;
  settings?: z.ZodType<S>;
  create(build: ChannelBuild<S>): Channel | undefined;
}

/** Timeout of one request to a channel's receiver, in ms (every HTTP channel's settings). */
export const RequestTimeoutMs = z.number().int().min(500).max(10_000).default(5_000);
