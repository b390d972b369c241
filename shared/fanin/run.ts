import type { Redis } from "@upstash/redis";
import { randomUUID } from "node:crypto";
import { ProbeResult } from "../result.ts";
import { parseCounterHash, type CounterHash } from "../slo/counters.ts";
import { AlertState, emptyState, type AlertRecord } from "../alerting/state.ts";
import { Silence } from "../alerting/silences.ts";
import type { Notification } from "../alerting/notification.ts";
import type { SloStatus } from "../slo/evaluate.ts";
import type { Keys } from "../store/keys.ts";
import { hashReply, streamReply } from "../store/replies.ts";
import { readStored } from "../store/documents.ts";
import { RELEASE_IF_HELD } from "../store/claims.ts";
import type { Logger } from "../log.ts";
import { decide, type FanInPolicy, type FanInSnapshot } from "./evaluate.ts";

export type SendResult = { ok: true } | { ok: false; error: string };

export interface FanInDeps {
  redis: Redis;
  keys: Keys;
  now(): Date;
  log: Logger;
  /** Delivers a group of notifications as one message; absent when Slack is not configured. */
  send?: (notifications: Notification[]) => Promise<SendResult>;
}

export interface FanInOptions {
  /** Consume results, write state and send. Without it the evaluation is a read-only preview. */
  notify: boolean;
  /** Most stream entries consumed per run; the rest wait for the next run. */
  batch?: number;
  lockMs?: number;
}

export interface FanInReport {
  skipped?: string;
  consumed: number;
  slos: SloStatus[];
  firing: AlertRecord[];
  /** Decided this run (previews: would be decided). */
  notifications: Notification[];
  /** Delivered this run, including ones left pending by earlier runs. */
  delivered: number;
  pending: number;
  /** Redis commands issued, for cost accounting. */
  commands: number;
}

const PENDING_CAP = 200;

/**
 * One fan-in evaluation: read everything in one round trip (taking the lock in it), decide purely,
 * write everything in a second, then send, then record what was delivered. The lock makes two
 * concurrent evaluations send one message; pending notifications survive a failed send.
 */
export async function runFanIn(deps: FanInDeps, policy: FanInPolicy, options: FanInOptions): Promise<FanInReport> {
  const { redis, keys } = deps;
  const now = deps.now();
  const token = randomUUID();
  const sources = [...new Set(policy.objectives.flatMap((o) => o.sources))];

  const read = redis.pipeline();
  if (options.notify) read.set(keys.lock, token, { nx: true, px: options.lockMs ?? 25_000 });
  read.get(keys.cursor);
  read.get(keys.alerts);
  read.hgetall(keys.silences);
  for (const s of sources) read.hgetall(keys.counter(s));
  const replies = (await read.exec()) as unknown[];
  let commands = replies.length;
  if (options.notify && replies.shift() !== "OK") {
    return { skipped: "another evaluation holds the lock", consumed: 0, slos: [], firing: [], notifications: [], delivered: 0, pending: 0, commands };
  }
  try {
    return await evaluateLocked(deps, policy, options, now, sources, replies, commands, token);
  } catch (error) {
    // Let the next run start at once rather than after the lock expires; the error still surfaces.
    if (options.notify) await redis.eval(RELEASE_IF_HELD, [keys.lock], [token]).catch(() => {});
    throw error;
  }
}

async function evaluateLocked(
  deps: FanInDeps, policy: FanInPolicy, options: FanInOptions, now: Date,
  sources: string[], replies: unknown[], commandsSoFar: number, token: string,
): Promise<FanInReport> {
  const { redis, keys } = deps;
  let commands = commandsSoFar;
  const [cursor, rawState, rawSilences, ...rawCounters] = replies as [string | null, string | null, unknown, ...unknown[]];
  // The stream read depends on the cursor, so it cannot share the first pipeline; XRANGE is the one
  // extra read, and a run with nothing new still costs two round trips in all.
  const entries = streamReply(await redis.xrange(keys.results, cursor ? `(${cursor}` : "-", "+", options.batch ?? 5_000));
  commands += 1;

  const snapshot: FanInSnapshot = {
    results: parseResults(entries, deps.log),
    counters: Object.fromEntries(sources.map((s, i) => [s, parseCounterHash(hashReply(rawCounters[i]))])) as Record<string, CounterHash>,
    state: parseState(rawState),
    silences: parseSilences(rawSilences),
  };
  const decision = decide(snapshot, policy, now);
  const state = decision.state;
  state.pending = [...state.pending, ...decision.notifications].slice(-PENDING_CAP);
  const report = (delivered: number): FanInReport => ({
    consumed: snapshot.results.length, slos: decision.slos, commands, delivered, pending: state.pending.length,
    firing: Object.values(state.alerts).filter((a) => a.firing), notifications: decision.notifications,
  });
  if (!options.notify) return report(0);

  const write = redis.multi();
  for (const [source, ops] of Object.entries(decision.increments)) for (const [field, by] of ops) write.hincrby(keys.counter(source), field, by);
  for (const [source, fields] of Object.entries(decision.prune)) if (fields.length) write.hdel(keys.counter(source), ...fields);
  const longest = Math.max(...policy.objectives.map((o) => o.periodDays), 1);
  for (const source of Object.keys(decision.increments)) write.expire(keys.counter(source), Math.ceil((longest + 4) * 86_400));
  const lastId = entries.at(-1)?.[0];
  if (lastId) write.set(keys.cursor, lastId);
  write.set(keys.slos, JSON.stringify({ evaluatedAt: now.toISOString(), slos: decision.slos }));
  write.set(keys.alerts, JSON.stringify(state));
  commands += (await write.exec()).length;

  let delivered = 0;
  if (state.pending.length > 0) {
    const batch = state.pending;
    const outcome = deps.send ? await deps.send(batch) : { ok: true as const };
    if (!deps.send) deps.log.info("notifications decided, no Slack webhook configured", { count: batch.length, keys: batch.map((n) => n.alertKey) });
    if (outcome.ok) {
      delivered = batch.length;
      state.pending = [];
    } else {
      deps.log.warn("notification send failed; kept pending for the next run", { count: batch.length, error: outcome.error });
    }
  }
  const finish = redis.multi();
  if (delivered > 0) finish.set(keys.alerts, JSON.stringify(state));
  finish.eval(RELEASE_IF_HELD, [keys.lock], [token]);
  commands += (await finish.exec()).length;
  return report(delivered);
}

function parseResults(entries: [string, Record<string, unknown>][], log: Logger): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (const [id, fields] of entries) {
    const result = readStored(ProbeResult, fields.doc);
    if (result) out.push(result);
    else log.warn("skipped an unreadable result in the stream", { id });
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

function parseState(raw: string | null): AlertState {
  return readStored(AlertState, raw) ?? emptyState();
}

export function parseSilences(raw: unknown): Silence[] {
  return Object.values(hashReply(raw)).flatMap((v) => readStored(Silence, v) ?? []);
}
