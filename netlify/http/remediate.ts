import { z } from "zod";
import { remediate } from "../../shared/remediation/run.ts";
import { redactDeep } from "../../shared/redact.ts";
import { remediationDeps } from "../remediation.ts";
import { HttpError } from "./errors.ts";
import type { Route } from "./handler.ts";
import { parseBody, parseQuery, readJsonBody } from "./input.ts";
import { ADMIN_RATE_LIMIT, type RateLimit } from "./rate-limit.ts";
import { json } from "./respond.ts";

/** A Beacon jobspec id (VARCHAR(255)): printable, no whitespace. */
const JobId = z.string().regex(/^[\x21-\x7e]{1,255}$/, "must be 1-255 printable characters without spaces");

export const RepublishRequest = z
  .object({
    /** Republish for real; default false: a dry run that lists what would be done. */
    execute: z.boolean().default(false),
    /** Only these jobs; default: every stuck job the outbox probe finds. */
    jobIds: z.array(JobId).min(1, "name at least one job, or leave jobIds out for every stuck job").optional(),
  })
  .strict();

/** Remediation requests are tiny; anything bigger is a mistake or an attack. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Why an execution was refused, as an HTTP status: configuration is 503, a state of Beacon or a lock is 409. */
const REFUSAL_STATUS: Record<string, number> = {
  "database-not-configured": 503, "admin-token-missing": 503, "database-unreachable": 503, "publisher-down": 409, busy: 409,
};

export interface RemediateRouteOptions {
  rateLimit?: RateLimit;
  /** Pacing sleep (tests pass a recording one). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * POST /api/remediate/republish {execute?, jobIds?}: lists stuck jobs with their cause and what
 * republishing would do (dry run, 200), or republishes the eligible ones through Beacon's admin API
 * (200 with a result per job), or refuses with the reason (409/503 with the plan).
 */
export function remediateRoute(options: RemediateRouteOptions = {}): Route {
  return {
    name: "api-remediate-republish", methods: ["POST"], access: "admin", rateLimit: options.rateLimit ?? ADMIN_RATE_LIMIT,
    async handle({ req, url, rt, caller }) {
      parseQuery(url, {});
      const body = parseBody(RepublishRequest, await readJsonBody(req, MAX_BODY_BYTES));
      const cap = rt.config.settings.remediation.maxRequestedJobs;
      if ((body.jobIds?.length ?? 0) > cap) throw new HttpError(400, "bad_request", `name at most ${cap} jobs per request`);
      const report = redactDeep(await remediate(remediationDeps(rt, { sleep: options.sleep }), {
        execute: body.execute, jobIds: body.jobIds ?? [], caller: caller.id, limit: rt.config.settings.remediation.maxJobsPerRequest,
      }), rt.redact);
      rt.log.info("remediation", { caller: caller.id, dryRun: report.dryRun, summary: report.summary });
      if (body.execute && report.plan.blocked) {
        throw new HttpError(REFUSAL_STATUS[report.plan.blocked.code] ?? 409, "refused", report.summary, { report });
      }
      return json(200, report, { "cache-control": "no-store" });
    },
  };
}
