import type { Redis } from "@upstash/redis";
import { beaconQueueKeys } from "../beacon/settings.ts";
import { parseQueueMessage } from "../beacon/envelope.ts";

/**
 * Where Beacon's queue holds each job right now: its message waiting in the list, waiting for a retry,
 * or being processed. A job found anywhere here is not lost, whatever its database row says (with the
 * worker stopped, every published job sits in `created` with its message waiting): republishing it
 * would run it twice.
 */
export interface QueuePresence {
  /** jobspec id -> why it must not be republished, e.g. "its message is waiting in jobs (12 ahead of it)". */
  held: Map<string, string>;
}

export interface QueueReadOptions {
  /** Most list/zset entries read; a longer queue cannot be judged whole and the read fails. Default 10000. */
  maxEntries: number;
  /** SCAN COUNT hint and most SCAN calls for the processing markers. */
  scanCount: number;
  maxScanCalls: number;
}

/** The queue could not be read whole: nothing can be judged safely. */
export class QueueUnreadable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueueUnreadable";
  }
}

/**
 * One pipelined request (LLEN, LRANGE, ZCARD, ZRANGE, one EXISTS per candidate job for the JobRunner's
 * lock, the first SCAN page of `<queue>:processing:*`), plus one request per further SCAN page.
 * Processing markers are `<queue>:processing:<message id>`, the message id being the jobspec id (a
 * flat envelope) or `<jobspec id>:<unix nanos>` (a JobMessage); both are matched.
 */
export async function readQueuePresence(redis: Redis, queue: { name: string; jobLockPrefix: string }, jobIds: string[], o: QueueReadOptions): Promise<QueuePresence> {
  const keys = beaconQueueKeys(queue.name);
  const p = redis.pipeline();
  p.llen(keys.main);
  p.lrange(keys.main, 0, o.maxEntries - 1);
  p.zcard(keys.retry);
  p.zrange(keys.retry, 0, o.maxEntries - 1, { withScores: true });
  p.scan(0, { match: keys.processingPattern, count: o.scanCount });
  for (const id of jobIds) p.exists(`${queue.jobLockPrefix}${id}`);
  const replies = (await p.exec({ keepErrors: true })) as { result: unknown; error?: string }[];
  const failed = replies.findIndex((r) => r?.error);
  if (failed >= 0) throw new QueueUnreadable(`Beacon's queue could not be read: ${replies[failed]!.error}`);
  const [llen, main, zcard, retry, firstScan, ...locks] = replies.map((r) => r.result);
  if (Number(llen) > o.maxEntries || Number(zcard) > o.maxEntries) {
    throw new QueueUnreadable(`Beacon's queue holds more than ${o.maxEntries} messages (${Number(llen)} waiting, ${Number(zcard)} to retry): too many to check each job against`);
  }

  const wanted = new Set(jobIds);
  const held = new Map<string, string>();
  const hold = (id: string | undefined, why: string) => {
    if (id && wanted.has(id) && !held.has(id)) held.set(id, why);
  };
  const list = strings(main);
  // BRPOP takes from the right: the message at index i has (length - 1 - i) ahead of it.
  list.forEach((raw, i) => hold(jobIdOf(raw), `its message is waiting in ${keys.main} (${list.length - 1 - i} ahead of it)`));
  const flat = strings(retry);
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const due = Number(flat[i + 1]);
    const when = Number.isFinite(due) ? ` (due ${new Date(due * 1000).toISOString()})` : "";
    hold(jobIdOf(flat[i]!), `its message is waiting for a retry in ${keys.retry}${when}`);
  }
  jobIds.forEach((id, i) => {
    if (Number(locks[i]) > 0) hold(id, `the worker holds its lock ${queue.jobLockPrefix}${id}: it is being processed`);
  });

  let [cursor, found] = scanPage(firstScan);
  for (let calls = 1; ; calls++) {
    const prefix = `${keys.main}:processing:`;
    for (const key of found) {
      const messageId = key.startsWith(prefix) ? key.slice(prefix.length) : "";
      const id = wanted.has(messageId) ? messageId : messageId.replace(/:\d{9,}$/, "");
      hold(id, `a worker is processing its message (${key})`);
    }
    if (cursor === "0") break;
    if (calls >= o.maxScanCalls) throw new QueueUnreadable(`the scan for ${keys.processingPattern} did not finish within ${o.maxScanCalls} calls`);
    [cursor, found] = scanPage(await redis.scan(cursor, { match: keys.processingPattern, count: o.scanCount }));
  }
  return { held };
}

/** The job a message will run. An unreadable message runs nothing (the worker dead-letters it), so it holds nothing. */
function jobIdOf(raw: string): string | undefined {
  const parsed = parseQueueMessage(raw);
  return parsed.kind === "invalid" ? undefined : parsed.jobId || undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map((v) => (typeof v === "string" ? v : JSON.stringify(v) ?? String(v))) : [];
}

function scanPage(value: unknown): [string, string[]] {
  if (!Array.isArray(value)) return ["0", []];
  const [cursor, keys] = value as [unknown, unknown];
  return [String(cursor ?? "0"), Array.isArray(keys) ? keys.map(String) : []];
}
