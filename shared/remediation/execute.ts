import { z } from "zod";
import { boundedFetch, excerpt, parseJson } from "../http.ts";
import type { Logger } from "../log.ts";
import type { RemediationSettings } from "./settings.ts";
import type { JobNow } from "./gather.ts";

/** What happened to one job. */
export const JobOutcome = z.object({
  jobId: z.string(),
  outcome: z.enum(["republished", "skipped", "failed", "rate-limited", "not-attempted"]),
  detail: z.string(),
  /** Requests made for this job (429 retries included). */
  attempts: z.number().int().nonnegative(),
});
export type JobOutcome = z.infer<typeof JobOutcome>;

export interface ExecuteDeps {
  fetch: typeof fetch;
  /** Monotonic enough for pacing; tests pass a fake clock together with a fake sleep. */
  now(): Date;
  sleep(ms: number): Promise<void>;
  log: Logger;
  /** `${BEACON_API_URL}${routes.republishJob}` */
  url: string;
  adminToken: string;
  settings: RemediationSettings;
  /** The job as it is right now (status, unpublished rows), or undefined when it is gone. */
  recheck(jobId: string): Promise<JobNow | undefined>;
}

/**
 * Republishes jobs one by one through Beacon's `POST /admin/republish-job {"job_id"}`, paced: Beacon
 * allows one admin request per 10 s per client IP across all /admin routes, so requests are spaced by
 * `adminIntervalMs`, and a 429 waits the `retry_after` Beacon names. Each job is re-checked right
 * before its request, because minutes can pass between planning and acting. Stops early when Beacon
 * rejects the admin token (every further request would fail the same way).
 */
export async function executeRepublish(jobIds: string[], deps: ExecuteDeps): Promise<JobOutcome[]> {
  const outcomes: JobOutcome[] = [];
  let nextAllowedAt = 0;
  let stop: string | undefined;
  const pace = async () => {
    const wait = nextAllowedAt - deps.now().getTime();
    if (wait > 0) await deps.sleep(wait);
  };
  for (const jobId of jobIds) {
    if (stop) {
      outcomes.push({ jobId, outcome: "not-attempted", detail: stop, attempts: 0 });
      continue;
    }
    const now = await deps.recheck(jobId);
    if (!now || now.status !== "created" || now.unpublished > 0 || now.queued) {
      const why = !now ? "the job no longer exists" : now.status !== "created" ? `the job is ${now.status} now`
        : now.unpublished > 0 ? "an unpublished outbox row appeared meanwhile" : now.queued;
      outcomes.push({ jobId, outcome: "skipped", detail: `${why}: not republished`, attempts: 0 });
      continue;
    }
    let attempts = 0;
    for (;;) {
      await pace();
      attempts++;
      const answer = await boundedFetch(deps.url, {
        fetch: deps.fetch, now: deps.now, timeoutMs: deps.settings.requestTimeoutMs, maxBytes: 4096, method: "POST",
        headers: { authorization: `Bearer ${deps.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ job_id: jobId }),
      });
      nextAllowedAt = deps.now().getTime() + deps.settings.adminIntervalMs;
      if (!answer.ok) {
        outcomes.push({ jobId, outcome: "failed", detail: `no answer from Beacon: ${answer.message}`, attempts });
        break;
      }
      if (answer.status >= 200 && answer.status < 300) {
        outcomes.push({ jobId, outcome: "republished", detail: "Beacon wrote a new outbox row", attempts });
        break;
      }
      const said = errorOf(answer.text);
      if (answer.status === 429) {
        const waitSeconds = retryAfter(answer.text, answer.headers, deps.settings.adminIntervalMs);
        if (attempts >= deps.settings.attemptsPerJob || waitSeconds > deps.settings.maxRetryAfterSeconds) {
          outcomes.push({ jobId, outcome: "rate-limited", detail: `Beacon kept answering 429 (retry_after ${waitSeconds} s)`, attempts });
          break;
        }
        deps.log.info("Beacon rate-limited an admin request; waiting", { jobId, retryAfterSeconds: waitSeconds });
        nextAllowedAt = deps.now().getTime() + waitSeconds * 1000;
        continue;
      }
      outcomes.push({ jobId, outcome: "failed", detail: `Beacon answered HTTP ${answer.status}${said ? ` ${said}` : ""}`, attempts });
      if (answer.status === 401 || answer.status === 403 || answer.status === 503) {
        stop = `not attempted: Beacon refused the admin token (HTTP ${answer.status}${said ? ` ${said}` : ""}); check BEACON_ADMIN_TOKEN`;
      }
      break;
    }
  }
  for (const o of outcomes) deps.log.info("republish outcome", { jobId: o.jobId, outcome: o.outcome, detail: o.detail });
  return outcomes;
}

/** Beacon's error code from a JSON error body, short and printable (the body is untrusted). */
function errorOf(text: string): string {
  const parsed = parseJson(text);
  const error = parsed.ok && parsed.value && typeof parsed.value === "object" ? (parsed.value as Record<string, unknown>).error : undefined;
  return typeof error === "string" ? excerpt(error, 60).replace(/[^\x20-\x7e]/g, "?") : "";
}

/** Seconds to wait after a 429: Beacon's `retry_after`, else the Retry-After header, else one interval. */
function retryAfter(text: string, headers: Headers, intervalMs: number): number {
  const parsed = parseJson(text);
  const body = parsed.ok && parsed.value && typeof parsed.value === "object" ? Number((parsed.value as Record<string, unknown>).retry_after) : NaN;
  if (Number.isFinite(body) && body > 0) return body;
  const header = Number(headers.get("retry-after"));
  if (Number.isFinite(header) && header > 0) return header;
  return Math.ceil(intervalMs / 1000);
}
