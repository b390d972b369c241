import { AsyncLocalStorage } from "node:async_hooks";
import { z } from "zod";

/**
 * The probe result document: the same shape for scheduled runs, the CLI, the store and the status API.
 *
 * Three outcomes are kept apart on purpose: `fail` means the probe measured the pipeline and it is out
 * of bounds; `error` means the probe could not measure (it is blind). `warn` is measured and degraded.
 */
export const CheckStatus = z.enum(["pass", "warn", "fail", "error"]);
export type CheckStatus = z.infer<typeof CheckStatus>;

/** A probe's, a stage's or the pipeline's state: the check outcomes, plus `unknown` (nothing to go on). */
export const State = z.enum(["pass", "warn", "fail", "error", "unknown"]);
export type State = z.infer<typeof State>;

/** Most evidence items a check carries; `evidenceTotal` says how many there were before the cap. */
export const EVIDENCE_CAP = 10;

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const Check = z.object({
  name: z.string().min(1),
  status: CheckStatus,
  /** What was measured (a count, seconds, a status code...), or null when nothing could be measured. */
  observed: Scalar,
  /** The bound it was held to, e.g. "<= 300 s" or 200. Null when the check is a pure contract check. */
  threshold: Scalar,
  message: z.string(),
  /** Offending items, each starting with its id: job ids, outbox row ids, URLs, queue keys. Capped. */
  evidence: z.array(z.string()).max(EVIDENCE_CAP),
  evidenceTotal: z.number().int().nonnegative(),
});
export type Check = z.infer<typeof Check>;

/**
 * Good/total event counts a run contributes to SLIs, by event name (the SLO source is
 * `<probe>:<name>`, e.g. `traffic:requests`). Counts are deltas for this run, not running totals.
 */
export const EventCounts = z
  .object({ good: z.number().int().nonnegative(), total: z.number().int().nonnegative() })
  .refine((c) => c.good <= c.total, "good cannot exceed total");
export type EventCounts = z.infer<typeof EventCounts>;

export const ProbeResult = z.object({
  /** Schema version of this document, bumped on incompatible change. */
  version: z.literal(1),
  probe: z.string().min(1),
  status: CheckStatus,
  startedAt: z.iso.datetime(),
  durationMs: z.number().nonnegative(),
  checks: z.array(Check),
  /** Why the probe could not measure, when status is `error` at probe level. */
  error: z.string().optional(),
  events: z.record(z.string().regex(/^[a-z0-9-]+$/), EventCounts).optional(),
});
export type ProbeResult = z.infer<typeof ProbeResult>;

const SEVERITY: Record<CheckStatus, number> = { pass: 0, warn: 1, error: 2, fail: 3 };

/** The worst status wins; a measured failure outranks blindness, which outranks degradation. */
export function worstStatus(statuses: Iterable<CheckStatus>): CheckStatus {
  let worst: CheckStatus = "pass";
  for (const s of statuses) if (SEVERITY[s] > SEVERITY[worst]) worst = s;
  return worst;
}

type CheckInput = Omit<Check, "evidence" | "evidenceTotal"> & { evidence?: readonly string[] };

/**
 * While the runner runs a probe (shared/runner.ts), told of each check the probe builds, as it builds
 * it: that is when the check was decided, which the runner times (JUnit's per-case time). Outside a
 * run there is no listener and check() stays pure.
 */
export const checkDecided = new AsyncLocalStorage<(check: Check) => void>();

/** Builds a check, capping its evidence and remembering how much there was. */
export function check(input: CheckInput): Check {
  const all = input.evidence ?? [];
  const built = { ...input, evidence: all.slice(0, EVIDENCE_CAP), evidenceTotal: all.length };
  checkDecided.getStore()?.(built);
  return built;
}

/** Exit codes of `sentinel run`: 0 pass/warn, 1 fail, 2 error (64 is bad usage, set by the CLI). */
export function exitCodeFor(status: CheckStatus): number {
  return status === "fail" ? 1 : status === "error" ? 2 : 0;
}
