import { boundedFetch, excerpt, parseJson } from "../../http.ts";
import { safeUrl } from "../../redact.ts";
import type { JsonObject } from "../../beacon/signing.ts";

/** How Beacon answered `POST /api/v1/jobs` or `POST /api/v1/jobs/cross-region`. */
export type SubmitOutcome =
  | { accepted: true; status: number; id: string; durationMs: number }
  | { accepted: false; status: number | string; code?: string; cause: string; durationMs: number };

export interface SubmitOptions {
  fetch: typeof fetch;
  now(): Date;
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * `cross-region`: the portal's route; `body` is its request (the spec under `jobspec`). Its only
   * signature check is the struct's (path A), run when both signature and public_key are set
   * (`cross_region_handlers.go:131-141`): no trust list, no nonce, no raw-body fallback.
   */
  route?: "queue" | "cross-region";
}

/**
 * Submits one signed JobSpec (`body`: the spec on the queue route, the portal's request on the
 * cross-region route). Success is `202 {"id", "status":"enqueued"}` on the queue route and
 * `202 {"id", "jobspec_id", "status":"submitted", …}` on the cross-region route; anything else comes
 * back with the likely cause in words (contract sheet §6's error codes). Never throws.
 */
export async function submitJob(url: string, body: JsonObject, o: SubmitOptions): Promise<SubmitOutcome> {
  const crossRegion = o.route === "cross-region";
  const jobspecId = String((crossRegion ? (body["jobspec"] as JsonObject | undefined) ?? {} : body)["jobspec_id"]);
  const res = await boundedFetch(url, {
    fetch: o.fetch, now: o.now, signal: o.signal, timeoutMs: o.timeoutMs, maxBytes: 64 * 1024, method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...(crossRegion ? {} : { "idempotency-key": jobspecId }) },
    body: JSON.stringify(body),
  });
  if (!res.ok) return { accepted: false, status: res.failure, cause: `${safeUrl(url)}: ${res.message}`, durationMs: res.durationMs };
  const parsed = parseJson(res.text);
  const answer = parsed.ok && typeof parsed.value === "object" && parsed.value !== null ? (parsed.value as Record<string, unknown>) : {};
  const id = typeof answer["id"] === "string" ? answer["id"] : "";
  if (res.status === 202 && crossRegion && answer["status"] !== "submitted") {
    // `status: "queued"` with X-Warning: the job row is written but no executor was started (:204-218).
    const warning = res.headers.get("x-warning");
    return { accepted: false, status: 202, cause: `HTTP 202 status "${String(answer["status"])}": the job was stored but will not run${warning ? ` (${warning})` : ""}`, durationMs: res.durationMs };
  }
  if (res.status === 202) return { accepted: true, status: 202, id, durationMs: res.durationMs };
  // Beacon's global rate limiter answers an object: {"error": {"code": "RATE_LIMIT_EXCEEDED", "message", "type"}} (middleware/security.go:117-180).
  const nested = typeof answer["error"] === "object" && answer["error"] !== null ? (answer["error"] as Record<string, unknown>) : undefined;
  if (nested?.["code"] === "RATE_LIMIT_EXCEEDED") {
    return { accepted: false, status: res.status, code: "RATE_LIMIT_EXCEEDED", durationMs: res.durationMs,
      cause: `HTTP ${res.status} RATE_LIMIT_EXCEEDED: Beacon's per-IP limit on every route (60 requests a minute) ran out: the sentinel's own reads from this address count against it` };
  }
  const code = typeof answer["error_code"] === "string" ? answer["error_code"] : undefined;
  const error = typeof answer["error"] === "string" ? answer["error"] : excerpt(res.text) || "(empty body)";
  const details = typeof answer["details"] === "string" ? answer["details"] : undefined;
  const cause = crossRegion ? crossRegionCause(res.status, error, details) : likelyCause(res.status, code, error, answer);
  return { accepted: false, status: res.status, ...(code ? { code } : {}), cause: `HTTP ${res.status} ${code ?? error}: ${cause}`, durationMs: res.durationMs };
}

/** The cross-region handler's answers (`cross_region_handlers.go:115-185`, `internal/api/routes.go:174-177`). */
function crossRegionCause(status: number, error: string, details: string | undefined): string {
  const more = details ? ` (${excerpt(details, 160)})` : "";
  if (status === 404) return "the route is not registered: the runner runs without its database (database-less mode registers no cross-region route), or it is older than the portal path";
  if (error === "Invalid JobSpec signature") return `signature rejected by the struct check, the route's only one: Beacon's canonical JSON differs from the portal's, or the key pair is wrong${more}`;
  if (error === "Invalid JobSpec") return `the JobSpec was refused by Validate()${more}`;
  if (error === "Invalid request format") return `the request did not bind${more}`;
  if (error === "Failed to create job record") return `Beacon could not write the job row: its database failed${more}`;
  if (error === "Failed to create cross-region execution") return `the job row was written, the cross-region record was not: the job will not run${more}`;
  return status >= 500 ? `Beacon failed: ${error}${more}` : `${error}${more}`;
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
