import type { Notification } from "../alerting/notification.ts";
import type { AlertRecord } from "../alerting/state.ts";
import type { ChannelName } from "./settings.ts";

/** What a channel gets besides the notifications it is owed. */
export interface ChannelContext {
  now: Date;
  /** Alerts firing now that were announced and are routed to this channel (Alertmanager re-posts them). */
  firing: AlertRecord[];
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
  name: ChannelName;
  budgetMs: number;
  /** Firing alerts are posted every tick while they fire, even with nothing owed (Alertmanager). */
  refiresWhileFiring?: boolean;
  deliver(owed: Notification[], context: ChannelContext): Promise<ChannelOutcome>;
}

/** Applies `redact` to every string inside a JSON-shaped value (before serializing: escapes would hide a secret). */
export function redactDeep<T>(value: T, redact: (s: string) => string): T {
  if (typeof value === "string") return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)])) as T;
  return value;
}
