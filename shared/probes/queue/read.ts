import type { Redis } from "@upstash/redis";
import { beaconQueueKeys } from "../../beacon/settings.ts";

/**
 * One observation of Beacon's queue. Values are read raw (the client does not deserialise), so a
 * non-JSON or binary message arrives as a string and is judged, never thrown on.
 */
export interface QueueSnapshot {
  keys: ReturnType<typeof beaconQueueKeys>;
  /** Per-key read errors (e.g. WRONGTYPE): Redis answered, the key is not what Beacon writes. */
  errors: { key: string; command: string; error: string }[];
  mainLength: number | null;
  retryLength: number | null;
  deadLength: number | null;
  /** `main[0..n-1]`: RPUSHed outbox envelopes age towards index 0, so the oldest of those is first. */
  mainHead: string[];
  /** `main[-n..-1]`: the next to be BRPOPped, and the oldest LPUSHed JobMessages. */
  mainTail: string[];
  /** The retry set's earliest-due members with their scores (retry time, unix seconds). */
  retryDue: { member: string; score: number }[];
  /** Retry members due before the overdue cutoff (ZCOUNT). */
  retryOverdue: number | null;
  /** `dead[0..n-1]`: dead messages are LPUSHed, so index 0 is the newest. */
  deadHead: string[];
  processingMarkers: number;
  /** False when the SCAN for processing markers stopped at its call cap. */
  processingComplete: boolean;
  /** Commands and HTTP requests this observation cost. */
  commands: number;
  requests: number;
}

export interface ReadOptions {
  sampleSize: number;
  /** Retry entries due before this (unix seconds) are overdue. */
  overdueBeforeSeconds: number;
  scanCount: number;
  maxScanCalls: number;
}

const COMMANDS_IN_PIPELINE = 9;

/**
 * Reads everything in one pipelined request of 9 commands (LLEN, ZCARD, LLEN, LRANGE ×2, ZRANGE,
 * ZCOUNT, LRANGE, SCAN), plus one request per further SCAN page, at most `maxScanCalls - 1` more.
 * A network or auth failure throws (the probe is blind); a per-command error is kept as data.
 */
export async function readQueue(redis: Redis, queueName: string, o: ReadOptions): Promise<QueueSnapshot> {
  const keys = beaconQueueKeys(queueName);
  const n = Math.max(1, o.sampleSize);
  const p = redis.pipeline();
  p.llen(keys.main);
  p.zcard(keys.retry);
  p.llen(keys.dead);
  p.lrange(keys.main, 0, n - 1);
  p.lrange(keys.main, -n, -1);
  p.zrange(keys.retry, 0, n - 1, { withScores: true });
  p.zcount(keys.retry, "-inf", `(${o.overdueBeforeSeconds}`);
  p.lrange(keys.dead, 0, n - 1);
  p.scan(0, { match: keys.processingPattern, count: o.scanCount });
  const replies = (await p.exec({ keepErrors: true })) as { result: unknown; error?: string }[];

  const errors: QueueSnapshot["errors"] = [];
  const take = (i: number, key: string, command: string): unknown => {
    const reply = replies[i];
    if (reply?.error) {
      errors.push({ key, command, error: reply.error });
      return undefined;
    }
    return reply?.result;
  };
  const snapshot: QueueSnapshot = {
    keys, errors,
    mainLength: asNumber(take(0, keys.main, "LLEN")),
    retryLength: asNumber(take(1, keys.retry, "ZCARD")),
    deadLength: asNumber(take(2, keys.dead, "LLEN")),
    mainHead: asStrings(take(3, keys.main, "LRANGE")),
    mainTail: asStrings(take(4, keys.main, "LRANGE")),
    retryDue: withScores(take(5, keys.retry, "ZRANGE")),
    retryOverdue: asNumber(take(6, keys.retry, "ZCOUNT")),
    deadHead: asStrings(take(7, keys.dead, "LRANGE")),
    processingMarkers: 0,
    processingComplete: true,
    commands: COMMANDS_IN_PIPELINE,
    requests: 1,
  };
  let [cursor, found] = scanPage(take(8, keys.processingPattern, "SCAN"));
  snapshot.processingMarkers = found;
  for (let calls = 1; cursor !== "0" && calls < o.maxScanCalls; calls++) {
    [cursor, found] = scanPage(await redis.scan(cursor, { match: keys.processingPattern, count: o.scanCount }));
    snapshot.processingMarkers += found;
    snapshot.commands++;
    snapshot.requests++;
  }
  snapshot.processingComplete = cursor === "0";
  return snapshot;
}

function asNumber(value: unknown): number | null {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/** List replies are strings; anything else (a number-looking value the client parsed) is stringified. */
function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.map((v) => (typeof v === "string" ? v : JSON.stringify(v) ?? String(v))) : [];
}

/** ZRANGE WITHSCORES answers a flat [member, score, member, score, ...]. */
function withScores(value: unknown): { member: string; score: number }[] {
  const flat = asStrings(value);
  const out: { member: string; score: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ member: flat[i] ?? "", score: Number(flat[i + 1]) });
  return out;
}

/** SCAN answers [cursor, keys]; a missing or odd reply ends the scan. */
function scanPage(value: unknown): [string, number] {
  if (!Array.isArray(value)) return ["0", 0];
  const [cursor, keys] = value as [unknown, unknown];
  return [String(cursor ?? "0"), Array.isArray(keys) ? keys.length : 0];
}
