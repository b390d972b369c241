import { createHash, createHmac } from "node:crypto";
import { z } from "zod";
import type { Notification } from "../alerting/notification.ts";
import { createRedactor } from "../redact.ts";
import { postJson, postWithRetries } from "./http.ts";
import { RequestTimeoutMs, type Channel, type ChannelDefinition, type ChannelEnv } from "./types.ts";
import { HttpUrl, optional } from "../env-values.ts";
import { redactDeep } from "../redact.ts";

/**
 * A generic webhook: everything owed in one POST with a stable JSON body (version 1, fields in a fixed
 * order, no send time inside), signed with HMAC-SHA256:
 *   X-Sentinel-Timestamp: <unix seconds>
 *   X-Sentinel-Signature: sha256=<hex HMAC of "<timestamp>.<raw body>" with SENTINEL_WEBHOOK_SECRET>
 *   X-Sentinel-Delivery:  <id of this batch, the body's `id`>
 *   Idempotency-Key:      <the same id> (the IETF draft's header, for receivers that deduplicate by it)
 * A retry carries the same body and delivery id, so a receiver that remembers delivery ids (or
 * notification ids) sees each once. As with Slack, a request that went out unanswered is retried once
 * and then reported unknown, never sent again.
 */

/** `channels.webhook` of SENTINEL_SETTINGS. */
export const WebhookSettings = z.object({
  requestTimeoutMs: RequestTimeoutMs,
}).strict();
export type WebhookSettings = z.infer<typeof WebhookSettings>;

/** The webhook's variables. */
const ENV = {
  /** A generic webhook receiving signed JSON (needs SENTINEL_WEBHOOK_SECRET). */
  SENTINEL_WEBHOOK_URL: { schema: optional(HttpUrl), secret: "url" },
  /** The HMAC-SHA256 key the webhook's signature is made with. */
  SENTINEL_WEBHOOK_SECRET: { schema: optional(z.string().min(16, "must be at least 16 characters")), secret: "value" },
} as const satisfies ChannelEnv;

/** The webhook in the channel catalog: switched on by SENTINEL_WEBHOOK_URL (with SENTINEL_WEBHOOK_SECRET). */
export const WEBHOOK = {
  name: "webhook",
  variable: "SENTINEL_WEBHOOK_URL",
  env: ENV,
  together: [["SENTINEL_WEBHOOK_URL", "SENTINEL_WEBHOOK_SECRET"]],
  settings: WebhookSettings,
  create: ({ env, settings, ...common }) => createWebhookChannel({ ...common, url: env.SENTINEL_WEBHOOK_URL, secret: env.SENTINEL_WEBHOOK_SECRET, settings }),
} as const satisfies ChannelDefinition<WebhookSettings, typeof ENV>;

export const WEBHOOK_BODY_VERSION = 1;

export interface WebhookBody {
  version: 1;
  id: string;
  source: "beacon-sentinel";
  statusUrl: string | null;
  notifications: Record<string, unknown>[];
}

/** The body for a batch. Pure: the same notifications give the same bytes. */
export function webhookBody(owed: Notification[], statusUrl?: string): WebhookBody {
  const id = createHash("sha256").update(owed.map((n) => n.id).join("\n")).digest("hex").slice(0, 32);
  return {
    version: WEBHOOK_BODY_VERSION,
    id,
    source: "beacon-sentinel",
    statusUrl: statusUrl ?? null,
    notifications: owed.map((n) => ({
      id: n.id, kind: n.kind, alertKey: n.alertKey, alertType: n.alertType, severity: n.severity, stage: n.stage,
      probe: n.probe ?? null, check: n.check ?? null, slo: n.slo ?? null, title: n.title, message: n.message,
      observed: n.observed, threshold: n.threshold, evidence: n.evidence, evidenceTotal: n.evidenceTotal,
      since: n.since, durationMs: n.durationMs ?? null, nextStep: n.nextStep ?? null,
    })),
  };
}

/** `sha256=<hex>` over `${timestamp}.${body}`. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export function createWebhookChannel(options: {
  url: string; secret: string; settings: WebhookSettings; statusUrl?: string; fetch: typeof fetch; redact: (s: string) => string; now: () => Date; budgetMs: number;
}): Channel {
  const scrub = (s: string) => createRedactor([options.url, options.secret])(options.redact(s));
  const timeoutMs = options.settings.requestTimeoutMs;
  return {
    name: "webhook",
    budgetMs: options.budgetMs,
    // Each notification's id is its idempotency key (the body carries it); the batch's is the Idempotency-Key header.
    deduplicates: true,
    keyOf: (n) => n.id,
    async deliver(owed) {
      const payload = redactDeep(webhookBody(owed, options.statusUrl), options.redact);
      const body = JSON.stringify(payload);
      const ids = owed.map((n) => n.id);
      const post = () => {
        const timestamp = Math.floor(options.now().getTime() / 1000);
        const headers = { "x-sentinel-timestamp": String(timestamp), "x-sentinel-signature": webhookSignature(options.secret, timestamp, body), "x-sentinel-delivery": payload.id, "idempotency-key": payload.id };
        return postJson(options.url, body, { fetch: options.fetch, name: "the webhook", timeoutMs, headers, scrub });
      };
      let unanswered = 0;
      const outcome = await postWithRetries(async () => {
        const o = await post();
        if (o.kind === "unknown") unanswered++;
        // After one unanswered request, one more attempt at most (the same delivery id), then stop.
        return o.kind === "unknown" && unanswered > 1 ? { ...o, kind: "permanent" as const, status: 0, body: "" } : o;
      }, { maxAttempts: 3, budgetMs: options.budgetMs, timeoutMs, retryUnknown: true });
      if (outcome.kind === "ok") return { delivered: ids, abandoned: [] };
      if (unanswered > 0) return { delivered: [], abandoned: ids, error: outcome.error };
      return { delivered: [], abandoned: [], error: outcome.error };
    },
  };
}
