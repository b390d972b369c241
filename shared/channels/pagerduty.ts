import { createHash } from "node:crypto";
import { z } from "zod";
import type { Notification } from "../alerting/notification.ts";
import { createRedactor } from "../redact.ts";
import { postJson, postWithRetries } from "./http.ts";
import { RequestTimeoutMs, type Channel, type ChannelDefinition, type ChannelEnv } from "./types.ts";
import { optional } from "../env-values.ts";
import { redactDeep } from "../redact.ts";

/**
 * PagerDuty's Events API v2: a `trigger` when an alert fires and a `resolve` when it clears, both with
 * the alert's key as `dedup_key`, so PagerDuty itself keeps one incident per alert: a repeated trigger
 * only adds a log entry to the open alert. That makes every retry safe, an unanswered one included:
 * an event left unanswered is retried once with the same key; unanswered again, it is counted unknown
 * and not repeated by later ticks (a late trigger repeated after its resolve would open a new
 * incident). Reminders send nothing: PagerDuty escalates by itself. One request per event, in order
 * (a trigger and its resolve must not swap), each bounded.
 */

/** `channels.pagerduty` of SENTINEL_SETTINGS. */
export const PagerDutySettings = z.object({
  /** PagerDuty's Events API v2 endpoint (a EU account uses events.eu.pagerduty.com). */
  eventsUrl: z.url({ protocol: /^https?$/ }).default("https://events.pagerduty.com/v2/enqueue"),
  /** `payload.source` of every event: the system that has the problem. */
  source: z.string().min(1).max(255).default("beacon-pipeline"),
  /** Timeout of one event request, in ms. */
  requestTimeoutMs: RequestTimeoutMs,
}).strict();
export type PagerDutySettings = z.infer<typeof PagerDutySettings>;

/** PagerDuty's variables. */
const ENV = {
  /** Events API v2 integration key (32 characters) of the service to page. */
  PAGERDUTY_ROUTING_KEY: { schema: optional(z.string().trim().regex(/^[A-Za-z0-9]{32}$/, "must be the 32-character Integration Key of an Events API v2 integration")), secret: "value" },
} as const satisfies ChannelEnv;

/** PagerDuty in the channel catalog: switched on by PAGERDUTY_ROUTING_KEY. */
export const PAGERDUTY = {
  name: "pagerduty",
  variable: "PAGERDUTY_ROUTING_KEY",
  env: ENV,
  settings: PagerDutySettings,
  create: ({ env, settings, ...common }) => createPagerDutyChannel({ ...common, routingKey: env.PAGERDUTY_ROUTING_KEY, settings }),
} as const satisfies ChannelDefinition<PagerDutySettings, typeof ENV>;

/** The sentinel's severities in PagerDuty's terms (critical, error, warning, info). */
export const PAGERDUTY_SEVERITY = { page: "critical", ticket: "error", warning: "warning" } as const;

export interface PagerDutyEvent {
  routing_key: string;
  event_action: "trigger" | "resolve";
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: (typeof PAGERDUTY_SEVERITY)[keyof typeof PAGERDUTY_SEVERITY];
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links?: { href: string; text: string }[];
  client?: string;
  client_url?: string;
}

/** PagerDuty allows 255 characters; a longer key keeps its head and a hash of the whole. */
export function dedupKey(alertKey: string): string {
  if (alertKey.length <= 255) return alertKey;
  return `${alertKey.slice(0, 200)}#${createHash("sha256").update(alertKey).digest("hex").slice(0, 32)}`;
}

/** The event for one notification (undefined for a reminder). Pure. */
export function pagerDutyEvent(n: Notification, o: { routingKey: string; source: string; statusUrl?: string }): PagerDutyEvent | undefined {
  if (n.kind === "reminder") return undefined;
  const base = { routing_key: o.routingKey, dedup_key: dedupKey(n.alertKey) };
  if (n.kind === "resolved") return { ...base, event_action: "resolve" };
  const links = o.statusUrl ? { links: [{ href: o.statusUrl, text: "Beacon Sentinel status page" }], client_url: o.statusUrl } : {};
  return {
    ...base,
    event_action: "trigger",
    payload: {
      summary: clip(`[${n.stage}] ${n.title}`, 1024),
      source: o.source,
      severity: PAGERDUTY_SEVERITY[n.severity],
      timestamp: n.since,
      component: n.probe ?? n.slo ?? n.stage,
      group: n.stage,
      class: n.alertType,
      custom_details: {
        alert_key: n.alertKey, check: n.check ?? null, message: n.message, observed: n.observed, threshold: n.threshold,
        evidence: n.evidence.slice(0, 10), evidence_total: n.evidenceTotal, ...(n.budget ? { budget: n.budget } : {}), ...(n.nextStep ? { next_step: n.nextStep } : {}),
      },
    },
    client: "Beacon Sentinel",
    ...links,
  };
}

export function createPagerDutyChannel(options: {
  routingKey: string; settings: PagerDutySettings; statusUrl?: string; fetch: typeof fetch; redact: (s: string) => string; budgetMs: number;
}): Channel {
  const { settings } = options;
  const scrub = (s: string) => createRedactor([options.routingKey])(options.redact(s));
  return {
    name: "pagerduty",
    budgetMs: options.budgetMs,
    deduplicates: true,
    keyOf: (n) => dedupKey(n.alertKey),
    async deliver(owed) {
      const started = performance.now();
      const delivered: string[] = [];
      const abandoned: string[] = [];
      const errors: string[] = [];
      for (const n of owed) {
        const event = pagerDutyEvent(n, { routingKey: options.routingKey, source: settings.source, statusUrl: options.statusUrl });
        if (!event) {
          delivered.push(n.id);
          continue;
        }
        const left = options.budgetMs - (performance.now() - started);
        if (left < settings.requestTimeoutMs) {
          errors.push(`no time left for ${owed.length - delivered.length - abandoned.length - errors.length} event(s); kept for the next tick`);
          break;
        }
        // The routing key travels in the body: the body is redacted except for it.
        const body = JSON.stringify({ ...redactDeep(event, options.redact), routing_key: options.routingKey });
        const outcome = await postWithRetries(
          () => postJson(settings.eventsUrl, body, { fetch: options.fetch, name: "PagerDuty", timeoutMs: settings.requestTimeoutMs, scrub }),
          { maxAttempts: 2, budgetMs: left, timeoutMs: settings.requestTimeoutMs, retryUnknown: true },
        );
        if (outcome.kind === "ok") {
          delivered.push(n.id);
          continue;
        }
        errors.push(outcome.error);
        // Sent, and retried with the same dedup_key, and still unanswered: PagerDuty may well have it
        // (it answers late). Kept, a later tick's trigger could reopen an alert its resolve closed, so it
        // is counted unknown, not repeated, and the next event goes on (a late PagerDuty is still up).
        if (outcome.kind === "unknown") {
          abandoned.push(n.id);
          continue;
        }
        // Rate limited or down: the rest would meet the same; a 400 concerns this event only.
        if (outcome.kind !== "permanent") break;
      }
      return { delivered, abandoned, ...(errors.length ? { error: errors.join("; ").slice(0, 500) } : {}) };
    },
  };
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + "…";
}
