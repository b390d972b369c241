import { causeCode, errorText, isTimeout } from "../../error-text.ts";
import { IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError, type IncomingWebhookSendArguments } from "@slack/webhook";
import { createRedactor } from "../../redact.ts";
import type { SlackMessage } from "./message.ts";

/**
 * Posts messages to a Slack incoming webhook. @slack/webhook makes the request; the policy is ours,
 * because the package has none that fits: it does not throttle, fails a 429 at once without reading
 * Retry-After, and its HTTP error carries only statusCode/statusMessage/body, never the headers. We
 * give it a fetch that remembers the response's Retry-After and how the request ended, and classify
 * each attempt ourselves.
 *
 * Policy: one request per `minIntervalMs` per sender (sends queue up, every attempt counts); 429 waits
 * Retry-After; 5xx and errors before the request went out (refused, DNS) back off and retry; any other
 * 4xx is a configuration problem and is not retried. A request that went out and got no answer (timed
 * out, connection dropped) may well have been posted: Slack routinely takes seconds to accept, and
 * answers even later under load. Such a send is retried ONCE, and then reported as `unknown`, never
 * sent again: two copies at worst, instead of one more per attempt and per evaluation (a slow Slack
 * once produced 17 copies of one alert).
 *
 * Time: each request may take `requestTimeoutMs` (10 s: Slack's own latency under load runs to several
 * seconds), and a whole send at most `budgetMs` (22 s, inside a 30 s scheduled function with room to
 * record the outcome): an attempt that could not finish within the budget is not started.
 */

/** How a send ended, for the caller's bookkeeping and for people. */
export type Delivery = "delivered" | "failed" | "unknown";

export type SendOutcome =
  | { ok: true; delivery: "delivered"; attempts: number }
  | {
      /** True: do not send this message again (Slack may well have posted it; see the module comment). */
      ok: true;
      delivery: "unknown";
      attempts: number;
      /** What happened to the last attempt; never contains the webhook URL. */
      error: string;
    }
  | {
      ok: false;
      /** Slack did not post it: sending it again later is safe. */
      delivery: "failed";
      attempts: number;
      /** True when a later run may succeed (rate limit, 5xx, network); false for config problems (404, 403...). */
      retryable: boolean;
      /** For people; never contains the webhook URL. */
      error: string;
      /** Slack's Retry-After, when it rate-limited us and waiting would have exceeded the budget. */
      retryAfterMs?: number;
    };

export interface SlackSenderOptions {
  /** The incoming-webhook URL. A secret: it never appears in an outcome or a thrown error. */
  webhookUrl: string;
  /** Minimum spacing between two requests of this sender, in ms. Default 1000 (Slack allows ~1 msg/s). */
  minIntervalMs?: number;
  /** Attempts per send, first one included. Default 4. At most one of them follows an unknown outcome. */
  maxAttempts?: number;
  /** Total time one send may spend waiting on Retry-After and backoff, in ms. Default 8000. */
  maxWaitMs?: number;
  /** Per-request timeout, in ms. Default 10000: Slack can take several seconds to accept a message. */
  requestTimeoutMs?: number;
  /** Everything one send may take (requests, spacing, waits), in ms. Default 22000. */
  budgetMs?: number;
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

/** Errors raised before a single byte of the request could have reached Slack: retrying cannot duplicate. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "EADDRNOTAVAIL"]);

type Attempt =
  | { kind: "ok" }
  | { kind: "rate-limited"; error: string; retryAfterMs: number }
  | { kind: "transient"; error: string }
  | { kind: "permanent"; error: string }
  /** The request went out and no answer came back: Slack may have posted it. */
  | { kind: "unknown"; error: string };

export function createSlackSender(options: SlackSenderOptions): SlackSender {
  const url = parseWebhookUrl(options.webhookUrl);
  const minIntervalMs = options.minIntervalMs ?? 1000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const maxWaitMs = options.maxWaitMs ?? 8000;
  const backoffMs = options.backoffMs ?? 500;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const budgetMs = options.budgetMs ?? 22_000;
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
    let answered: number | undefined;
    const webhook = new IncomingWebhook(options.webhookUrl, {
      timeout: requestTimeoutMs,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        answered = response.status;
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
      // Slack said 200 and the body was lost on the way: it was posted.
      if (answered !== undefined && answered >= 200 && answered < 300) return { kind: "ok" };
      const code = causeCode(cause);
      if (code !== undefined && NOT_SENT_CODES.has(code)) return { kind: "transient", error: scrub(`request to Slack failed: ${errorText(cause)}`) };
      const timedOut = isTimeout(cause);
      return { kind: "unknown", error: scrub(timedOut ? `Slack did not answer within ${requestTimeoutMs} ms` : `request to Slack failed after it was sent: ${errorText(cause)}`) };
    }
  }

  async function deliver(message: SlackMessage): Promise<SendOutcome> {
    const payload = { text: message.text, blocks: message.blocks } as IncomingWebhookSendArguments;
    const started = now();
    let waitedMs = 0;
    let unknown: string | undefined; // set once a request went out unanswered
    for (let attempts = 1; ; attempts++) {
      const result = await attempt(payload);
      if (result.kind === "ok") return { ok: true, delivery: "delivered", attempts };
      // After an unknown outcome only one more attempt is made, whatever it answers.
      if (unknown !== undefined) return { ok: true, delivery: "unknown", attempts, error: `${unknown}; then: ${result.error}` };
      if (result.kind === "permanent") return { ok: false, delivery: "failed", attempts, retryable: false, error: result.error };
      if (result.kind === "unknown") unknown = result.error;
      const delay = result.kind === "rate-limited" ? result.retryAfterMs
        : result.kind === "unknown" ? 0 : backoffMs * 2 ** (attempts - 1);
      const nextEndsAt = now() + Math.max(delay, minIntervalMs) + requestTimeoutMs;
      if (attempts >= maxAttempts || waitedMs + delay > maxWaitMs || nextEndsAt - started > budgetMs) {
        if (result.kind === "unknown") return { ok: true, delivery: "unknown", attempts, error: result.error };
        const rateLimit = result.kind === "rate-limited" ? { retryAfterMs: result.retryAfterMs } : {};
        return { ok: false, delivery: "failed", attempts, retryable: true, error: result.error, ...rateLimit };
      }
      if (delay > 0) await sleep(delay);
      waitedMs += delay;
    }
  }

  return {
    send(message) {
      const outcome = tail.then(() => deliver(message));
      tail = outcome.catch(() => undefined);
      return outcome.catch((error: unknown): SendOutcome => ({
        ok: false, delivery: "failed", attempts: 0, retryable: true, error: scrub(`sending failed: ${errorText(error)}`),
      }));
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
