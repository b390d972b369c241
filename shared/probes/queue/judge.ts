import { createHash } from "node:crypto";
import { z } from "zod";
import { deadLetterKind, parseQueueMessage, type ParsedQueueMessage } from "../../beacon/envelope.ts";
import { check, type Check, type CheckStatus } from "../../result.ts";
import type { QueueSettings } from "./settings.ts";
import type { QueueSnapshot } from "./read.ts";

export const QUEUE_CHECKS = ["queue-depth", "queue-latency", "message-contract", "retry-overdue", "dead-letter-growth"] as const;

/** What the probe remembers between runs: the dead list's length and a fingerprint of its newest entry. */
export const QueueState = z.object({ deadLength: z.number().int().nonnegative(), deadHead: z.string().nullable() });
export type QueueState = z.infer<typeof QueueState>;

/** A sampled message and where it was found, e.g. `jobs[0]`. */
interface Sampled {
  where: string;
  parsed: ParsedQueueMessage;
}

const grade = (value: number, warn: number, fail: number): CheckStatus => (value > fail ? "fail" : value > warn ? "warn" : "pass");
const label = (m: Sampled) => `${m.where}${m.parsed.jobId ? ` job ${m.parsed.jobId}` : ""}`;

/** The waiting list's sampled ends, deduplicated when the list is short enough for them to overlap. */
export function sampleMain(snap: QueueSnapshot): Sampled[] {
  const { main } = snap.keys;
  const head = snap.mainHead.map((raw, i) => ({ where: `${main}[${i}]`, parsed: parseQueueMessage(raw) }));
  const length = snap.mainLength ?? head.length + snap.mainTail.length;
  const tailStart = length - snap.mainTail.length;
  const tail = snap.mainTail.flatMap((raw, i) =>
    tailStart + i < head.length ? [] : [{ where: `${main}[${tailStart + i}]`, parsed: parseQueueMessage(raw) }]);
  return [...head, ...tail];
}

/** Evidence lines for keys Redis refused to read as Beacon writes them (e.g. WRONGTYPE). */
function keyErrors(snap: QueueSnapshot, keys: string[]): string[] {
  return snap.errors.filter((e) => keys.includes(e.key)).map((e) => `${e.key}: ${e.command} failed: ${e.error}`);
}

export function judgeDepth(snap: QueueSnapshot, s: QueueSettings): Check {
  const { keys } = snap;
  const broken = keyErrors(snap, [keys.main, keys.retry, keys.dead, keys.processingPattern]);
  const depth = snap.mainLength ?? 0;
  const markers = `${snap.processingComplete ? "" : "at least "}${snap.processingMarkers}`;
  const status = broken.length ? "fail" : grade(depth, s.depthWarnCount, s.depthFailCount);
  return check({
    name: "queue-depth", status, observed: snap.mainLength,
    threshold: `<= ${s.depthWarnCount} (warn), <= ${s.depthFailCount} (fail)`,
    message: `${keys.main}: ${snap.mainLength ?? "?"} waiting; ${keys.retry}: ${snap.retryLength ?? "?"}; ` +
      `${keys.dead}: ${snap.deadLength ?? "?"}` +
      (snap.processingScanned ? `; ${keys.processingPattern}: ${markers} markers${snap.processingComplete ? "" : ` (SCAN stopped after ${s.maxScanCalls} calls)`}` : ""),
    evidence: [...broken, ...(status === "pass" || broken.length ? [] : [`${keys.main}: ${depth} waiting`])],
  });
}

/** Sidekiq's queue latency: the age of the oldest waiting message, from its `enqueued_at`. */
export function judgeLatency(snap: QueueSnapshot, main: Sampled[], nowMs: number, s: QueueSettings): Check {
  const broken = keyErrors(snap, [snap.keys.main]);
  const aged = main.flatMap((m) => (m.parsed.kind === "invalid" ? [] : [{ m, age: (nowMs - Date.parse(m.parsed.enqueuedAt)) / 1000 }]));
  const oldest = Math.max(0, ...aged.map((a) => a.age));
  const bound = Math.min(s.latencyWarnSeconds, s.latencyFailSeconds);
  const status = broken.length ? "fail" : grade(oldest, s.latencyWarnSeconds, s.latencyFailSeconds);
  const partial = (snap.mainLength ?? 0) > main.length ? ` (sampled both ends, ${main.length} of ${snap.mainLength})` : "";
  return check({
    name: "queue-latency", status, observed: Math.round(oldest),
    threshold: `<= ${s.latencyWarnSeconds} s (warn), <= ${s.latencyFailSeconds} s (fail)`,
    message: aged.length ? `oldest waiting message enqueued ${Math.round(oldest)} s ago${partial}` : "no datable waiting messages",
    evidence: [...broken, ...aged.filter((a) => a.age > bound).sort((a, b) => b.age - a.age)
      .map((a) => `${label(a.m)}: waiting ${Math.round(a.age)} s`)],
  });
}

/** Every sampled waiting, retry and dead message is Beacon's envelope or JobMessage with a job id. */
export function judgeContract(snap: QueueSnapshot, main: Sampled[]): Check {
  const retry = snap.retryDue.map((r, i) => ({ where: `${snap.keys.retry}[${i}]`, parsed: parseQueueMessage(r.member) }));
  const dead = snap.deadHead.map((raw, i) => ({ where: `${snap.keys.dead}[${i}]`, parsed: parseQueueMessage(raw) }));
  const sampled = [...main, ...retry, ...dead];
  const bad = sampled.flatMap((m) => (m.parsed.kind === "invalid" ? [`${label(m)}: ${m.parsed.reason}`] : []));
  return check({
    name: "message-contract", status: bad.length ? "fail" : "pass", observed: bad.length,
    threshold: `0 invalid of ${sampled.length} sampled`,
    message: bad.length
      ? `${bad.length} of ${sampled.length} sampled messages are neither Beacon's envelope nor a JobMessage with a job id (payload mismatch)`
      : `${sampled.length} sampled messages are valid`,
    evidence: bad,
  });
}

/** Retry entries due long ago mean nothing drains the retry set (the score is the retry time). */
export function judgeRetry(snap: QueueSnapshot, nowMs: number, s: QueueSettings): Check {
  const broken = keyErrors(snap, [snap.keys.retry]);
  const overdue = snap.retryOverdue ?? 0;
  const nowSeconds = nowMs / 1000;
  const lines = snap.retryDue
    .map((r, i) => ({ r, i, late: nowSeconds - r.score }))
    .filter((x) => x.late > s.retryOverdueSeconds)
    .map(({ r, i, late }) => {
      const parsed = parseQueueMessage(r.member);
      const attempts = parsed.kind === "job-message" ? ` (attempts ${parsed.message.attempts}/${parsed.message.max_retries})` : "";
      return `${label({ where: `${snap.keys.retry}[${i}]`, parsed })}: due ${Math.round(late)} s ago${attempts}`;
    });
  return check({
    name: "retry-overdue", status: broken.length || overdue > 0 ? "fail" : "pass", observed: snap.retryOverdue,
    threshold: `0 entries overdue > ${s.retryOverdueSeconds} s`,
    message: `${overdue} of ${snap.retryLength ?? "?"} retry entries overdue by more than ${s.retryOverdueSeconds} s`,
    evidence: [...broken, ...lines],
  });
}

/**
 * New dead messages since the previous run, found by locating the previous newest entry. Only lost
 * messages count against the threshold: a dead entry whose `error` is the JobRunner's own verdict on a
 * run ("multi-region execution failed", "no execution results") records a job that ran and failed (it
 * reads `failed`, the job-success SLO counts it), and Beacon writes such a record for some failed
 * queue-path jobs only (those the advanced Dequeue popped; the BRPOP fallback records none).
 */
export function judgeDead(snap: QueueSnapshot, previous: unknown, s: QueueSettings): { check: Check; state?: QueueState } {
  const broken = keyErrors(snap, [snap.keys.dead]);
  const name = "dead-letter-growth";
  const threshold = `<= ${s.newDeadMaxCount} new since the previous run`;
  if (broken.length || snap.deadLength === null) {
    return { check: check({ name, status: "fail", observed: null, threshold, message: `${snap.keys.dead} could not be read`, evidence: broken }) };
  }
  const state: QueueState = { deadLength: snap.deadLength, deadHead: snap.deadHead[0] === undefined ? null : fingerprint(snap.deadHead[0]) };
  const prev = QueueState.safeParse(previous);
  if (!prev.success) {
    return { state, check: check({ name, status: "pass", observed: null, threshold,
      message: `baseline recorded: ${snap.deadLength} dead messages (growth is measured from the next run)` }) };
  }
  const fresh = newDeadCount(snap, prev.data);
  const sampled = snap.deadHead.slice(0, fresh).map((raw, i) => ({ raw, i, kind: deadLetterKind(raw) }));
  const runs = sampled.filter((d) => d.kind === "failed-run");
  // Entries past the sample cannot be read: they count as lost.
  const lost = fresh - runs.length;
  const line = (d: (typeof sampled)[number]) => deadLine(`${snap.keys.dead}[${d.i}]`, d.raw);
  const recorded = runs.length
    ? `; ${runs.length} record runs that failed (their jobs read failed and count in job-success; a flat envelope has max_retries 0), not lost messages`
    : "";
  return {
    state,
    check: check({
      name, status: lost > s.newDeadMaxCount ? "fail" : "pass", observed: lost, threshold: `<= ${s.newDeadMaxCount} new lost since the previous run`,
      message: `${fresh} new dead messages since the previous run (${prev.data.deadLength} -> ${snap.deadLength}): ${lost} lost${recorded}`,
      evidence: [...sampled.filter((d) => d.kind === "lost").map(line), ...runs.map((d) => `${line(d)} [a failed run's record]`)],
    }),
  };
}

/**
 * Beacon only LPUSHes to the dead list and purges it whole, so the previous newest entry's position is
 * the number of new entries; the length difference covers identical messages. If the previous head is
 * gone (purged), everything present is new, or at least the sample when the list is longer than it.
 */
function newDeadCount(snap: QueueSnapshot, prev: QueueState): number {
  const length = snap.deadLength ?? 0;
  const byLength = Math.max(0, length - prev.deadLength);
  if (prev.deadHead === null) return length;
  const at = snap.deadHead.findIndex((raw) => fingerprint(raw) === prev.deadHead);
  if (at >= 0) return Math.max(at, byLength);
  return length <= snap.deadHead.length ? length : Math.max(snap.deadHead.length, byLength);
}

/** A dead message with its `error`, read leniently: an invalid message still shows why it died. */
function deadLine(where: string, raw: string): string {
  const parsed = parseQueueMessage(raw);
  const head = label({ where, parsed });
  const fields = looseFields(raw);
  const error = typeof fields.error === "string" && fields.error !== "" ? (fields.error.length > 200 ? `${fields.error.slice(0, 200)}…` : fields.error) : "no error recorded"; // the ellipsis tells the redactor it was cut
  const attempts = typeof fields.attempts === "number" ? ` (attempts ${fields.attempts}/${String(fields.max_retries ?? "?")})` : "";
  const invalid = parsed.kind === "invalid" ? ` [invalid: ${parsed.reason}]` : "";
  return `${head}: ${error}${attempts}${invalid}`;
}

function looseFields(raw: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function fingerprint(raw: string): string {
  return createHash("sha256").update(raw).digest("base64url").slice(0, 22);
}
