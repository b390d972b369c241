import { boundedFetch, excerpt, parseJson } from "../../http.ts";
import { safeUrl } from "../../redact.ts";
import type { JsonObject } from "../../beacon/signing.ts";

/** How Beacon answered `POST /api/v1/jobs`. */
export type SubmitOutcome =
  | { accepted: true; status: number; id: string; durationMs: number }
  | { accepted: false; status: number | string; code?: string; cause: string; durationMs: number };

export interface SubmitOptions {
  fetch: typeof fetch;
  now(): Date;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Submits one signed JobSpec. Success is `202 {"id", "status":"enqueued"}`; anything else comes back
 * with the likely cause in words (contract sheet §6's error codes). Never throws.
 */
export async function submitJob(url: string, spec: JsonObject, o: SubmitOptions): Promise<SubmitOutcome> {
  const res = await boundedFetch(url, {
    fetch: o.fetch, now: o.now, signal: o.signal, timeoutMs: o.timeoutMs, maxBytes: 64 * 1024, method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", "idempotency-key": String(spec["jobspec_id"]) },
    body: JSON.stringify(spec),
  });
  if (!res.ok) return { accepted: false, status: res.failure, cause: `${safeUrl(url)}: ${res.message}`, durationMs: res.durationMs };
  const parsed = parseJson(res.text);
  const body = parsed.ok && typeof parsed.value === "object" && parsed.value !== null ? (parsed.value as Record<string, unknown>) : {};
  if (res.status === 202) return { accepted: true, status: 202, id: typeof body["id"] === "string" ? body["id"] : "", durationMs: res.durationMs };
  const code = typeof body["error_code"] === "string" ? body["error_code"] : undefined;
  const error = typeof body["error"] === "string" ? body["error"] : excerpt(res.text) || "(empty body)";
  return { accepted: false, status: res.status, ...(code ? { code } : {}), cause: `HTTP ${res.status} ${code ?? error}: ${likelyCause(res.status, code, error, body)}`, durationMs: res.durationMs };
}

function likelyCause(status: number, code: string | undefined, error: string, body: Record<string, unknown>): string {
  if (code?.startsWith("trust_violation:")) {
    return `Beacon does not trust the sentinel's public key (${code.slice("trust_violation:".length)}): add it to TRUSTED_KEYS_JSON as an active key`;
  }
  if (code === "signature_mismatch") return "signature rejected: Beacon's canonical JSON differs from the recipe's, or the key pair is wrong";
  if (code === "replay_detected") return "nonce already used (replay protection)";
  if (code === "protection_unavailable:replay") return "Beacon's Redis is unreachable (replay protection unavailable)";
  if (code === "rate_limit_exceeded" || status === 429) return "rate limited after earlier signature failures";
  if (code) return `rejected by Beacon's security pipeline: ${error}`;
  if (status === 503 && error === "persistence unavailable") return "Beacon runs without its database (database-less mode)";
  if (status === 200 && body["idempotent"] === true) return "idempotency key reused: Beacon returned an earlier job";
  if (status === 400) return `the JobSpec was refused: ${error}`;
  return status >= 500 ? `Beacon failed: ${error}` : error;
}
