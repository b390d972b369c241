import { ConfigError } from "../../shared/config/index.ts";
import type { Logger } from "../../shared/log.ts";
import type { Redactor } from "../../shared/redact.ts";
import { HttpError } from "./errors.ts";

/** Headers on every answer: nothing sniffed, nothing framed, no referrer leaks. */
const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** JSON answers never run anything in a browser. */
const JSON_CSP = "default-src 'none'; frame-ancestors 'none'";

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } });
}

/**
 * The one place an error becomes a response. HttpError: its status and message. ConfigError: 500 with
 * the problems (they name variables, never values). Anything else is a bug: 500 with a generic message,
 * the details only in the (redacted) log.
 */
export function errorResponse(error: unknown, log: Logger, route: string): Response {
  if (error instanceof HttpError) {
    return json(error.status, { error: error.code, message: error.message, ...error.details }, error.headers);
  }
  if (error instanceof ConfigError) {
    log.error("invalid configuration", { route, problems: error.problems });
    return json(500, { error: "invalid_configuration", message: "the sentinel is misconfigured", problems: error.problems });
  }
  log.error("request failed", { route, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  return json(500, { error: "internal", message: "the request failed; the function log has the details" });
}

/**
 * Last step of every answer: the body passes through the redactor (a second line of defence: what is
 * rendered was built from redacted data already), standard headers are added, errors are never cached.
 */
export async function finalize(response: Response, redact: Redactor, extra: Record<string, string>): Promise<Response> {
  const headers = new Headers(response.headers);
  for (const [k, v] of Object.entries({ ...SECURITY_HEADERS, ...extra })) if (!headers.has(k)) headers.set(k, v);
  if ((headers.get("content-type") ?? "").startsWith("application/json") && !headers.has("content-security-policy")) headers.set("content-security-policy", JSON_CSP);
  if (response.status >= 400) headers.set("cache-control", "no-store");
  const body = response.status === 204 || response.status === 304 ? null : redact(await response.text());
  return new Response(body, { status: response.status, headers });
}
