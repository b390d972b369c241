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
  /** Whether processing markers were counted (SCAN runs only when `maxScanCalls` > 0). */
  processingScanned: boolean;
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

/** Commands of the first round trip: a sample of the main list, of the retry set and of the dead list. */
export const QUEUE_FIRST_COMMANDS = 3;

/**
 * Reads the queue in one pipelined request of 3 commands: LRANGE main 0..n-1, ZRANGE retry 0..n-1
 * WITHSCORES, LRANGE dead 0..n-1. A sample shorter than n is the whole key, so its length (and the retry
 * set's overdue count) is read off it. Only for a key whose sample came back full does a second request
 * ask for the rest: LLEN and the tail (LRANGE -n..-1) of the main list, ZCARD and ZCOUNT of the retry
 * set, LLEN of the dead list (at most 5 more commands). Processing markers are counted with SCAN only
 * when `maxScanCalls` > 0 (one request per page). A network or auth failure throws (the probe is blind);
 * a per-command error is kept as data.
 */
export async function readQueue(redis: Redis, queueName: string, o: ReadOptions): Promise<QueueSnapshot> {
  const keys = beaconQueueKeys(queueName);
  const n = Math.max(1, o.sampleSize);
  const errors: QueueSnapshot["errors"] = [];
  const take = (replies: { result: unknown; error?: string }[], i: number, key: string, command: string): unknown => {
    const reply = replies[i];
    if (reply?.error) {
      errors.push({ key, command, error: reply.error });
      return undefined;
    }
    return reply?.result;
  };
  const first = (await redis.pipeline()
    .lrange(keys.main, 0, n - 1)
    .zrange(keys.retry, 0, n - 1, { withScores: true })
    .lrange(keys.dead, 0, n - 1)
    .exec({ keepErrors: true })) as { result: unknown; error?: string }[];
  const mainRaw = take(first, 0, keys.main, "LRANGE");
  const retryRaw = take(first, 1, keys.retry, "ZRANGE");
  const deadRaw = take(first, 2, keys.dead, "LRANGE");
  const mainHead = asStrings(mainRaw);
  const retryDue = withScores(retryRaw);
  const deadHead = asStrings(deadRaw);
  const overdueIn = (due: { score: number }[]) => due.filter((r) => r.score < o.overdueBeforeSeconds).length;
  const snapshot: QueueSnapshot = {
    keys, errors,
    mainLength: mainRaw === undefined ? null : mainHead.length,
    retryLength: retryRaw === undefined ? null : retryDue.length,
    deadLength: deadRaw === undefined ? null : deadHead.length,
    mainHead, mainTail: [], retryDue,
    retryOverdue: retryRaw === undefined ? null : overdueIn(retryDue),
    deadHead, processingScanned: false, processingMarkers: 0, processingComplete: true,
    commands: QUEUE_FIRST_COMMANDS, requests: 1,
  };

  // A full sample: the key is longer than the sample, or exactly as long; ask for what it could not say.
  const more = redis.pipeline();
  const rest: ((replies: { result: unknown; error?: string }[], i: number) => void)[] = [];
  if (mainRaw !== undefined && mainHead.length >= n) {
    more.llen(keys.main).lrange(keys.main, -n, -1);
    rest.push((r, i) => { snapshot.mainLength = asNumber(take(r, i, keys.main, "LLEN")); }, (r, i) => { snapshot.mainTail = asStrings(take(r, i, keys.main, "LRANGE")); });
  }
  if (retryRaw !== undefined && retryDue.length >= n) {
    more.zcard(keys.retry).zcount(keys.retry, "-inf", `(${o.overdueBeforeSeconds}`);
    rest.push((r, i) => { snapshot.retryLength = asNumber(take(r, i, keys.retry, "ZCARD")); }, (r, i) => { snapshot.retryOverdue = asNumber(take(r, i, keys.retry, "ZCOUNT")); });
  }
  if (deadRaw !== undefined && deadHead.length >= n) {
    more.llen(keys.dead);
    rest.push((r, i) => { snapshot.deadLength = asNumber(take(r, i, keys.dead, "LLEN")); });
  }
  if (rest.length) {
    const replies = (await more.exec({ keepErrors: true })) as { result: unknown; error?: string }[];
    rest.forEach((read, i) => read(replies, i));
    snapshot.commands += rest.length;
    snapshot.requests++;
  }

  if (o.maxScanCalls > 0) {
    let cursor = "0";
    let calls = 0;
    do {
      let found: number;
      [cursor, found] = scanPage(await redis.scan(cursor, { match: keys.processingPattern, count: o.scanCount }));
      snapshot.processingMarkers += found;
      calls++;
    } while (cursor !== "0" && calls < o.maxScanCalls);
    snapshot.commands += calls;
    snapshot.requests += calls;
    snapshot.processingComplete = cursor === "0";
    snapshot.processingScanned = true;
  }
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
