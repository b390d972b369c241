import { z } from "zod";
import { CheckStatus } from "../../result.ts";
import { CANARY_PATHS } from "./settings.ts";

/** A decided check of one canary: a stage that happened (in time or late) or did not, or a regression check. */
export const Verdict = z.object({
  status: CheckStatus,
  /** Seconds since submission when it happened; null when it did not (or cannot be timed). */
  at: z.number().nullable(),
  /** `at` comes from Beacon's own timestamps, not from when an invocation first saw it. */
  exact: z.boolean().default(false),
  message: z.string(),
  evidence: z.array(z.string()).default([]),
});
export type Verdict = z.infer<typeof Verdict>;

/** The canary being followed. */
export const InFlight = z.object({
  id: z.string().min(1),
  /** The path it was submitted through (a canary stored before paths existed took the queue path). */
  path: z.enum(CANARY_PATHS).default("queue"),
  submittedAt: z.iso.datetime(),
  /** Seconds the submit took: the job row was written within it (the origin of Beacon's timestamps). */
  acceptedS: z.number().nonnegative(),
  /** The id Beacon's 202 answered with (the empty-id incident shows here too). */
  answeredId: z.string(),
  /** Checks decided so far, by check name (`stage:<name>`, `regression:<name>`). */
  decided: z.record(z.string(), Verdict).default({}),
});
export type InFlight = z.infer<typeof InFlight>;

/**
 * What the canary keeps between invocations (the runner stores it with each result).
 *
 * State machine: idle --(interval passed, slot claimed, submit)--> in flight --(every stage happened,
 * or the job failed, or the last budget passed)--> settled = idle again; a refused submit settles at
 * once. `verdicts` keeps, per check, the latest decided outcome, which is what idle runs report.
 */
export const CanaryState = z.object({
  version: z.literal(1),
  lastSubmittedAt: z.iso.datetime().optional(),
  inFlight: InFlight.optional(),
  verdicts: z.record(z.string(), Verdict.extend({ canary: z.string() })).default({}),
  /** The last settled canary, for the summary line. */
  last: z.object({ id: z.string(), passed: z.boolean(), settledAt: z.iso.datetime(), summary: z.string() }).optional(),
});
export type CanaryState = z.infer<typeof CanaryState>;

/** The stored state, or a fresh one when there is none or it no longer parses (a schema change). */
export function loadState(raw: unknown): CanaryState {
  const parsed = CanaryState.safeParse(raw);
  return parsed.success ? parsed.data : { version: 1, verdicts: {} };
}

/** Seconds since the canary's submission, at `now`. */
export function elapsedS(canary: Pick<InFlight, "submittedAt">, now: Date): number {
  return Math.max(0, (now.getTime() - Date.parse(canary.submittedAt)) / 1000);
}
