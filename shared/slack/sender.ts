import { IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError, type IncomingWebhookSendArguments } from "@slack/webhook";
import { createRedactor } from "../redact.ts";
import type { SlackMessage } from "./message.ts";

/**
 * Posts messages to a Slack incoming webhook. @slack/webhook makes the request; the policy is ours,
 * because the package has none that fits: it does not throttle, fails a 429 at once without reading
 * Retry-After, and its HTTP error carries only statusCode/statusMessage/body, never the headers. We
 * give it a fetch that remembers the response's Retry-After, and classify its errors ourselves.
 *
 * Policy: one request per `minIntervalMs` per sender (sends queue up, every attempt counts); 429 waits
 * Retry-After; 5xx and network errors back off; any other 4xx is a configuration problem and is not
 * retried. Waiting stops at `maxWaitMs` so a scheduled function (30 s) can still record the outcome.
 */

export type SendOutcome =
  | { ok: true; attempts: number }
  | {
      ok: false;
      attempts: number;
      /** True when a later run may succeed (rate limit, 5xx, network); false for config problems (404, 403...). */
      retryable: boolean;
      /** For people; never contains the webhook URL. */
      error: string;
      /** Slack's Retry-After, when it rate-limited us and waiting would have exceeded `maxWaitMs`. */
      retryAfterMs?: number;
    };

export interface SlackSenderOptions {
  /** The incoming-webhook URL. A secret: it never appears in an outcome or a thrown error. */
  webhookUrl: string;
  /** Minimum spacing between two requests of this sender, in ms. Default 1000 (Slack allows ~1 msg/s). */
  minIntervalMs?: number;
  /** Attempts per send, first one included. Default 4. */
  maxAttempts?: number;
  /** Total time one send may spend waiting on Retry-After and backoff, in ms. Default 8000. */
  maxWaitMs?: number;
  /** Per-request timeout, in ms. Default 4000: 4 attempts + 8 s of waiting fit in a 30 s function. */
  requestTimeoutMs?: number;
  /** First backoff after a 5xx or network error, in ms, doubling each time. Default 500. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** A monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
}

export interface SlackSender {
  /** Resolves with the outcome; never rejects. Concurrent sends are delivered one at a time, in order. */
  send(message: SlackMessage): Promise<SendOutcome>;
}

/** Used when a 429 comes without a readable Retry-After. */
const DEFAULT_RETRY_AFTER_MS = 1000;

type Attempt =
  | { kind: "ok" }
  | { kind: "rate-limited"; error: string; retryAfterMs: number }
  | { kind: "transient"; error: string }
  | { kind: "permanent"; error: string };

export function createSlackSender(options: SlackSenderOptions): SlackSender {
  const url = parseWebhookUrl(options.webhookUrl);
  const minIntervalMs = options.minIntervalMs ?? 1000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const maxWaitMs = options.maxWaitMs ?? 8000;
  const backoffMs = options.backoffMs ?? 500;
  const requestTimeoutMs = options.requestTimeoutMs ?? 4000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? (() => performance.now());
  const scrub = createRedactor([options.webhookUrl, url.href, url.pathname, url.pathname.split("/").pop() ?? ""]);

  let lastRequestAt: number | undefined;
  let tail: Promise<unknown> = Promise.resolve();

  async function attempt(payload: IncomingWebhookSendArguments): Promise<Attempt> {
    if (lastRequestAt !== undefined) {
      const wait = lastRequestAt + minIntervalMs - now();
      if (wait > 0) await sleep(wait);
    }
    lastRequestAt = now();
    let retryAfter: string | null = null;
    let dateHeader: string | null = null;
    const webhook = new IncomingWebhook(options.webhookUrl, {
      timeout: requestTimeoutMs,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        retryAfter = response.headers.get("retry-after");
        dateHeader = response.headers.get("date");
        return response;
      },
    });
    try {
      await webhook.send(payload);
      return { kind: "ok" };
    } catch (error) {
      if (error instanceof IncomingWebhookHTTPError) {
        const text = scrub(`Slack answered HTTP ${error.statusCode}${error.body ? `: ${error.body.slice(0, 200)}` : ""}`);
        if (error.statusCode === 429) return { kind: "rate-limited", error: text, retryAfterMs: parseRetryAfter(retryAfter, dateHeader) };
        return { kind: error.statusCode >= 500 ? "transient" : "permanent", error: text };
      }
      const cause = error instanceof IncomingWebhookRequestError ? error.original : error;
      return { kind: "transient", error: scrub(`request to Slack failed: ${describe(cause)}`) };
    }
  }

  async function deliver(message: SlackMessage): Promise<SendOutcome> {
    const payload = { text: message.text, blocks: message.blocks } as IncomingWebhookSendArguments;
    let waitedMs = 0;
    for (let attempts = 1; ; attempts++) {
      const result = await attempt(payload);
      if (result.kind === "ok") return { ok: true, attempts };
      if (result.kind === "permanent") return { ok: false, attempts, retryable: false, error: result.error };
      const delay = result.kind === "rate-limited" ? result.retryAfterMs : backoffMs * 2 ** (attempts - 1);
      if (attempts >= maxAttempts || waitedMs + delay > maxWaitMs) {
        const rateLimit = result.kind === "rate-limited" ? { retryAfterMs: result.retryAfterMs } : {};
        return { ok: false, attempts, retryable: true, error: result.error, ...rateLimit };
      }
      await sleep(delay);
      waitedMs += delay;
    }
  }

  return {
    send(message) {
      const outcome = tail.then(() => deliver(message));
      tail = outcome.catch(() => undefined);
      return outcome.catch((error: unknown) => ({ ok: false, attempts: 0, retryable: true, error: scrub(`sending failed: ${describe(error)}`) }));
    },
  };
}

/** Throws a configuration error that does not repeat the (secret) value. */
function parseWebhookUrl(raw: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // fall through: the parser's message would contain the URL
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) throw new Error("Slack webhook URL is not a valid http(s) URL");
  return url;
}

/** Retry-After is delta-seconds (what Slack sends) or an HTTP date, read against the response's Date. */
function parseRetryAfter(value: string | null, date: string | null): number {
  if (value === null) return DEFAULT_RETRY_AFTER_MS;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  const reference = date === null ? Number.NaN : Date.parse(date);
  return Number.isNaN(at) || Number.isNaN(reference) ? DEFAULT_RETRY_AFTER_MS : Math.max(0, at - reference);
}

/** The error's message and its cause's code (ECONNREFUSED...), never the error object itself. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : "";
  return detail ? `${error.message} (${detail})` : error.message;
}
