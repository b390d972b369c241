import { scrubUrls } from "./redact.ts";

/**
 * Fetching from a probed system without trusting it: every call is time-bounded, every body is read
 * up to a cap, and every way it can go wrong comes back as data the probe turns into a failed check.
 */

export type FetchFailure = "timeout" | "refused" | "network" | "aborted";

export type BoundedResponse =
  | {
      ok: true;
      status: number;
      headers: Headers;
      /** The body as text, cut at maxBytes when `truncated`. */
      text: string;
      truncated: boolean;
      bytes: number;
      durationMs: number;
    }
  | { ok: false; failure: FetchFailure; message: string; durationMs: number };

export interface BoundedFetchOptions {
  fetch: typeof fetch;
  now(): Date;
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Never throws and never repeats a credential: user info in `url` (`https://user:pass@host/`, which
 * fetch refuses outright) is sent as Basic authorization instead, and failure messages have every URL
 * scrubbed of user info and query values (fetch's own messages quote the URL it was given).
 */
export async function boundedFetch(url: string, options: BoundedFetchOptions): Promise<BoundedResponse> {
  const target = withoutCredentials(url);
  const headers = target.authorization && !hasHeader(options.headers, "authorization")
    ? { ...options.headers, authorization: target.authorization } : options.headers;
  const started = options.now().getTime();
  const elapsed = () => options.now().getTime() - started;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const response = await options.fetch(target.url, {
      method: options.method ?? "GET",
      headers,
      body: options.body,
      signal,
      redirect: "manual",
    });
    const { text, truncated, bytes } = await readCapped(response, options.maxBytes);
    return { ok: true, status: response.status, headers: response.headers, text, truncated, bytes, durationMs: elapsed() };
  } catch (error) {
    const durationMs = elapsed();
    if (timeout.aborted) return { ok: false, failure: "timeout", message: `no answer within ${options.timeoutMs} ms`, durationMs };
    if (options.signal?.aborted) return { ok: false, failure: "aborted", message: "probe was stopped", durationMs };
    const code = errorCode(error);
    if (code === "ECONNREFUSED") return { ok: false, failure: "refused", message: "connection refused", durationMs };
    return { ok: false, failure: "network", message: code ? `network error ${code}` : scrubUrls(describe(error)), durationMs };
  }
}

/** The URL without its user info, and that user info as a Basic authorization header. */
function withoutCredentials(raw: string): { url: string; authorization?: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { url: raw }; // fetch reports it; its message is scrubbed
  }
  if (!url.username && !url.password) return { url: raw };
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const basic = Buffer.from(`${decode(url.username)}:${decode(url.password)}`).toString("base64");
  url.username = "";
  url.password = "";
  return { url: url.href, authorization: `Basic ${basic}` };
}

function hasHeader(headers: Record<string, string> | undefined, name: string): boolean {
  return Object.keys(headers ?? {}).some((k) => k.toLowerCase() === name);
}

async function readCapped(response: Response, maxBytes: number) {
  if (!response.body) return { text: "", truncated: false, bytes: 0 };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = maxBytes - bytes;
    if (value.byteLength > room) {
      chunks.push(value.subarray(0, room));
      bytes += room;
      truncated = true;
      await reader.cancel().catch(() => {});
      break;
    }
    chunks.push(value);
    bytes += value.byteLength;
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks)), truncated, bytes };
}

function errorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  return typeof cause?.code === "string" ? cause.code : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Parses JSON without throwing: a probed system's body is data, and bad data is a finding. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, message: `not JSON (${describe(error).slice(0, 80)})` };
  }
}

/** A short, single-line excerpt of a body for evidence. */
export function excerpt(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
