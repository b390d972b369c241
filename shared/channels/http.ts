import { causeCode, errorText, isTimeout } from "../error-text.ts";

/**
 * One bounded JSON POST, classified the way every channel needs it: delivered; refused by the
 * receiver for good (4xx: our request or configuration is wrong); worth retrying (429 with its
 * Retry-After, 5xx, or an error before the request could have left: refused, DNS); or unknown (the
 * request went out and no answer came: the receiver may have it). Never throws; messages never carry
 * the URL (it may be a secret) and are redacted by the caller's `scrub`.
 */

export type PostOutcome =
  | { kind: "ok"; status: number; body: string }
  | { kind: "rate-limited"; status: 429; error: string; retryAfterMs: number }
  | { kind: "transient"; error: string; status?: number }
  | { kind: "permanent"; status: number; error: string; body: string }
  | { kind: "unknown"; error: string };

export interface PostOptions {
  fetch: typeof fetch;
  /** Names the receiver in messages ("PagerDuty", "Alertmanager", "the webhook"). */
  name: string;
  timeoutMs: number;
  headers?: Record<string, string>;
  scrub: (s: string) => string;
}

/** Errors raised before a byte of the request could reach the receiver: retrying cannot duplicate. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "EADDRNOTAVAIL"]);
const DEFAULT_RETRY_AFTER_MS = 1_000;

export async function postJson(url: string, body: string, options: PostOptions): Promise<PostOutcome> {
  const { name, scrub } = options;
  let response: Response;
  try {
    response = await options.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...options.headers },
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    const code = causeCode(error);
    if (code && NOT_SENT.has(code)) return { kind: "transient", error: scrub(`request to ${name} failed: ${code}`) };
    if (isTimeout(error)) return { kind: "unknown", error: `${name} did not answer within ${options.timeoutMs} ms` };
    return { kind: "unknown", error: scrub(`request to ${name} failed after it was sent: ${errorText(error)}`) };
  }
  let text = "";
  try {
    text = await response.text();
  } catch {
    // The status already says what happened; a lost body changes nothing below.
  }
  const status = response.status;
  if (status >= 200 && status < 300) return { kind: "ok", status, body: text };
  const error = scrub(`${name} answered HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}`);
  if (status === 429) return { kind: "rate-limited", status, error, retryAfterMs: retryAfterMs(response.headers.get("retry-after")) };
  if (status >= 500) return { kind: "transient", status, error };
  return { kind: "permanent", status, error, body: text };
}

export interface RetryOptions {
  /** Attempts, the first included. */
  maxAttempts: number;
  /** Everything the retries may take, in ms, measured on `now`. */
  budgetMs: number;
  timeoutMs: number;
  backoffMs?: number;
  /** Whether an unknown outcome may be retried: true only where the receiver deduplicates. */
  retryUnknown: boolean;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Retries what is worth retrying inside the budget; the last outcome is returned. */
export async function postWithRetries(post: () => Promise<PostOutcome>, options: RetryOptions): Promise<PostOutcome & { attempts: number }> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? (() => performance.now());
  const started = now();
  for (let attempts = 1; ; attempts++) {
    const outcome = await post();
    const retryable = outcome.kind === "rate-limited" || outcome.kind === "transient" || (outcome.kind === "unknown" && options.retryUnknown);
    if (!retryable || attempts >= options.maxAttempts) return { ...outcome, attempts };
    const delay = outcome.kind === "rate-limited" ? outcome.retryAfterMs : (options.backoffMs ?? 300) * 2 ** (attempts - 1);
    if (now() - started + delay + options.timeoutMs > options.budgetMs) return { ...outcome, attempts };
    await sleep(delay);
  }
}

function retryAfterMs(value: string | null): number {
  if (value && /^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.ceil(Number(value) * 1000);
  return DEFAULT_RETRY_AFTER_MS;
}



