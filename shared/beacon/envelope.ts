import { z } from "zod";

/** A Go `time.Time` as encoding/json writes it: RFC 3339 with optional fraction (up to ns) and zone. */
const GoTime = z.iso.datetime({ offset: true, message: "not an RFC 3339 time" });

/**
 * The flat envelope Beacon's outbox stores and RPUSHes verbatim, and that `JobRunner.handleEnvelope`
 * expects (internal/service/jobs.go, internal/worker/job_runner.go): `id` is the public jobspec id.
 * The publisher refuses a payload missing `id`, `enqueued_at` or `attempt` and retries it forever.
 * Unknown keys are kept: Go's decoder ignores them.
 */
export const OutboxEnvelope = z
  .object({
    id: z.string().min(1, "must not be empty"),
    /** RFC 3339 time of enqueueing (Go's time.Time); the queue latency is measured from it. */
    enqueued_at: GoTime,
    attempt: z.number(),
    request_id: z.string().optional(),
  })
  .loose();
export type OutboxEnvelope = z.infer<typeof OutboxEnvelope>;

/**
 * Beacon's "advanced" queue message (internal/queue/types.go), LPUSHed by `RedisQueue.Enqueue` and the
 * member type of `jobs:retry` and `jobs:dead`. `id` is `<jobspec_id>:<unixnano>`. `jobspec_id` may be
 * empty: a flat envelope read as a JobMessage has none, and the worker then falls back to `id` (see
 * {@link jobIdOf}); that is also how such a message looks once dead-lettered.
 */
export const JobMessage = z
  .object({
    id: z.string(),
    jobspec_id: z.string(),
    action: z.string(),
    payload: z.unknown(),
    attempts: z.number(),
    max_retries: z.number(),
    enqueued_at: GoTime,
    last_attempt: z.string().optional(),
    error: z.string().optional(),
  })
  .loose();
export type JobMessage = z.infer<typeof JobMessage>;

/** How a raw queue value reads; `jobId` is the jobspec id when one could be found, even if invalid. */
export type ParsedQueueMessage =
  | { kind: "envelope"; message: OutboxEnvelope; jobId: string; enqueuedAt: string }
  | { kind: "job-message"; message: JobMessage; jobId: string; enqueuedAt: string }
  | { kind: "invalid"; reason: string; jobId?: string };

/** Keys only the JobMessage shape has; any of them means the value is meant as a JobMessage. */
const JOB_MESSAGE_KEYS = ["jobspec_id", "action", "attempts", "max_retries"] as const;

/** Longest job id carried into evidence; anything longer is cut (evidence must stay small). */
const MAX_ID_CHARS = 120;

/**
 * Classifies one raw queue value (a list element or zset member) as Beacon's flat envelope, Beacon's
 * JobMessage, or invalid with a reason. Never throws: hostile input (binary, huge, non-JSON) is data.
 */
export function parseQueueMessage(raw: string): ParsedQueueMessage {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { kind: "invalid", reason: `not JSON (${describeRaw(raw)})` };
  }
  return classifyMessage(value);
}

/** Like {@link parseQueueMessage}, for a value already decoded (e.g. a jsonb column). */
export function classifyMessage(value: unknown): ParsedQueueMessage {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "invalid", reason: `not a JSON object (${jsonType(value)})` };
  }
  const record = value as Record<string, unknown>;
  if (JOB_MESSAGE_KEYS.some((k) => k in record)) {
    const parsed = JobMessage.safeParse(record);
    if (!parsed.success) {
      const reason = `JobMessage: ${describeIssues(parsed.error, record)}`;
      return withId({ kind: "invalid", reason }, shortId(record.jobspec_id) ?? shortId(record.id));
    }
    const message = parsed.data;
    const jobId = shortId(jobIdOf(message));
    if (!jobId) {
      const what = message.payload == null ? "empty jobspec_id and empty id" : "empty jobspec_id and a payload without an id";
      return { kind: "invalid", reason: `JobMessage ${JSON.stringify(shortId(message.id) ?? "")}: ${what} (payload mismatch: no job to run)` };
    }
    return { kind: "job-message", message, jobId, enqueuedAt: message.enqueued_at };
  }
  return checkEnvelope(record);
}

/**
 * The job a JobMessage makes the worker run, as Beacon's worker decides it: `jobspec_id`; else, when
 * the message carries a payload, the payload's `id` (the payload is what reaches the JobRunner);
 * else `id` ("raw outbox envelope case": a flat envelope read as a JobMessage). "" when none.
 */
export function jobIdOf(message: JobMessage): string {
  if (message.jobspec_id !== "") return message.jobspec_id;
  if (message.payload != null) {
    const id = typeof message.payload === "object" ? (message.payload as Record<string, unknown>).id : undefined;
    return typeof id === "string" ? id : "";
  }
  return message.id;
}

/**
 * Checks a value against the flat envelope only: what the outbox publisher and the JobRunner accept.
 * A JobMessage-shaped outbox payload is invalid here (the payload-mismatch incident).
 */
export function checkEnvelope(value: unknown): ParsedQueueMessage {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "invalid", reason: `not a JSON object (${jsonType(value)})` };
  }
  const record = value as Record<string, unknown>;
  const jobId = shortId(record.id);
  const parsed = OutboxEnvelope.safeParse(record);
  if (!parsed.success) return withId({ kind: "invalid", reason: describeIssues(parsed.error, record) }, jobId);
  return { kind: "envelope", message: parsed.data, jobId: jobId ?? "", enqueuedAt: parsed.data.enqueued_at };
}

/**
 * "missing key attempt; enqueued_at: expected string, received number": one phrase per issue, keyed by
 * field. `value` is the object that was parsed, to tell a missing key from a mistyped one.
 */
function describeIssues(error: z.ZodError, value: Record<string, unknown>): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.join(".");
      const top = issue.path[0];
      if (issue.path.length === 1 && typeof top === "string" && !(top in value)) return `missing key ${key}`;
      return key ? `${key}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

function withId(result: { kind: "invalid"; reason: string }, jobId: string | undefined): ParsedQueueMessage {
  return jobId ? { ...result, jobId } : result;
}

function shortId(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  return value.length > MAX_ID_CHARS ? `${value.slice(0, MAX_ID_CHARS)}…` : value;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** A short, printable description of a raw value: its length and a sanitised prefix. */
function describeRaw(raw: string): string {
  const printable = raw.slice(0, 40).replace(/[^\x20-\x7e]/g, "?");
  return `${raw.length} chars, starts "${printable}"`;
}

/**
 * The errors the JobRunner returns for a job it ran and marked `failed` (`worker/job_runner.go`:
 * processExecutionResults, "no execution results" and "multi-region execution failed: …"). A flat
 * envelope read as a JobMessage has max_retries 0, so the first such error sends it to `<queue>:dead`
 * when the advanced Dequeue popped it (the BRPOP fallback ignores handler errors and dead-letters
 * nothing): a record of a failed run, counted by the job-success SLO, not a lost message. This reads
 * Beacon's recorded data, not an error of ours.
 */
export const RUN_FAILURE_ERRORS = ["multi-region execution failed", "no execution results"] as const;

/** What a dead-letter entry is: the record of a run that failed, or a message whose job never ran. */
export function deadLetterKind(raw: string): "failed-run" | "lost" {
  const parsed = parseQueueMessage(raw);
  if (parsed.kind !== "job-message") return "lost";
  const error = parsed.message.error ?? "";
  return RUN_FAILURE_ERRORS.some((prefix) => error.startsWith(prefix)) ? "failed-run" : "lost";
}
