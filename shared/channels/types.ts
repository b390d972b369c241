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
 * One environment variable of a channel: its schema (as the configuration validates it: an empty
 * value is unset) and how its value is kept out of every text: `value`, secret as it is; `url`, a
 * URL secret whole and in its parts (its path is the token); `credentials`, a URL whose user info
 * and query values alone are secret; `none`, not secret.
 */
export interface ChannelVariable {
  schema: z.ZodType;
  secret: "value" | "url" | "credentials" | "none";
}

/** A channel's environment variables, by name. */
export type ChannelEnv = Record<string, ChannelVariable>;

/**
 * Those variables as their schemas parse them, each set (a channel is built only when all are): typed
 * by the channel's own declaration, so reading a variable it does not declare is a compile error.
 * Over the general ChannelEnv, every value is `unknown`.
 */
export type ChannelEnvValues<E extends ChannelEnv> = { [K in keyof E]: Exclude<z.output<E[K]["schema"]>, undefined> };

/** What a configured channel is built from: its own variables, its own settings, and the shared clients. */
export interface ChannelBuild<S, E extends ChannelEnv = ChannelEnv> {
  env: ChannelEnvValues<E>;
  statusUrl?: string;
  settings: S;
  fetch: typeof fetch;
  redact: (s: string) => string;
  now: () => Date;
  /** The most a delivery may take (catalog.ts SEND_BUDGET_MS). */
  budgetMs: number;
}

/**
 * A channel as the catalog lists it: its name, its environment variables (the configuration reads
 * and validates them from here), its part of SENTINEL_SETTINGS.channels with defaults (absent:
 * none), and how to build it when the deployment configures it. A definition names its variables'
 * type, `satisfies ChannelDefinition<Settings, typeof ENV>`, so that `create` reads them typed.
 */
export interface ChannelDefinition<S = undefined, E extends ChannelEnv = ChannelEnv> {
  name: string;
  /** The variable that switches it on, named in configuration problems. */
  variable: keyof E & string;
  /** Its environment variables; it is configured when all are set. */
  env: E;
  /** Groups of variables that need each other: setting some of a group but not all is a configuration problem. */
  together?: readonly (readonly (keyof E & string)[])[];
  settings?: z.ZodType<S>;
  create(build: ChannelBuild<S, E>): Channel;
}

/** Timeout of one request to a channel's receiver, in ms (every HTTP channel's settings). */
export const RequestTimeoutMs = z.number().int().min(500).max(10_000).default(5_000);
