/**
 * The queue consumer (`internal/queue/redis.go` StartWorker + `redis_queue.go` RedisQueue): pop the
 * newest message from the right of the list (RPUSH + BRPOP makes outbox envelopes LIFO), read it as
 * a JobMessage, mark `<queue>:processing:<message id>` for 10 min, rebuild the flat envelope and run
 * the JobRunner. On failure: retry ZSET (`1 min × attempts`) while attempts < max_retries, else the
 * dead list. A flat envelope read as a JobMessage has max_retries 0, so it is dead-lettered at once.
 * With `idleFallback`, an empty advanced poll hands the next turn to the simple BRPOP fallback
 * (`redis.go` StartWorker), which runs what it pops and ignores the error: nothing is retried or
 * dead-lettered, so only some failed queue-path jobs leave a dead letter.
 */
import { decode, goTime, normalizeGoTime, unixNano, ZERO_TIME, zeroOf, type Kind } from "./go-struct.ts";
import type { Pass } from "./loop.ts";
import type { SandboxContext } from "./context.ts";

const JOB_MESSAGE: Kind = {
  t: "struct",
  fields: [
    { key: "id", kind: { t: "string" } },
    { key: "jobspec_id", kind: { t: "string" } },
    { key: "action", kind: { t: "string" } },
    { key: "payload", kind: { t: "anyMap" } },
    { key: "attempts", kind: { t: "int" } },
    { key: "max_retries", kind: { t: "int" } },
    { key: "enqueued_at", kind: { t: "time" } },
    { key: "last_attempt", kind: { t: "time" } },
    { key: "error", kind: { t: "string" } },
  ],
};

interface JobMessage {
  id: string;
  jobspec_id: string;
  action: string;
  payload: Record<string, unknown> | null;
  attempts: number;
  max_retries: number;
  enqueued_at: string;
  last_attempt: string;
  error: string;
}

/** `json.Unmarshal(raw, &JobMessage)`; undefined where Go would return an error. */
function parseJobMessage(raw: string): JobMessage | undefined {
  try {
    return decode(JOB_MESSAGE, JSON.parse(raw), zeroOf(JOB_MESSAGE), "JobMessage") as JobMessage;
  } catch {
    return undefined;
  }
}

/**
 * `Dequeue`'s fallback when the JobMessage does not unmarshal: an object with a non-empty string `id`
 * is rebuilt as `env:<id>:<nanos>` for that job, `max_retries` 3 (so it is retried, not lost).
 */
function rebuildEnvelope(raw: string): JobMessage | undefined {
  let env: unknown;
  try {
    env = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof env !== "object" || env === null || Array.isArray(env)) return undefined;
  const { id, attempt, enqueued_at: enqueuedAt } = env as Record<string, unknown>;
  if (typeof id !== "string" || id === "") return undefined;
  const enqueued = typeof enqueuedAt === "string" ? normalizeGoTime(enqueuedAt) : undefined;
  return {
    id: `env:${id}:${unixNano()}`, jobspec_id: id, action: "", payload: null,
    attempts: typeof attempt === "number" ? Math.trunc(attempt) : 0, max_retries: 3,
    enqueued_at: enqueued ?? goTime(new Date()), last_attempt: ZERO_TIME, error: "",
  };
}

/** Go's json.Marshal of a JobMessage (`last_attempt` always present, `error` omitempty). */
function marshal(message: JobMessage): string {
  const { error, ...rest } = message;
  return JSON.stringify(error ? { ...rest, error } : rest);
}

/** The JobRunner's entry point: resolves on success, rejects with the handler error. */
export type EnvelopeHandler = (payload: string, signal: AbortSignal) => Promise<void>;

/**
 * `processSignal` is the runner process: a restart aborts the job in hand (its message is left as a
 * crash leaves it) while the loop goes on, as a new process would.
 */
export function createWorkerPass(ctx: SandboxContext, handle: EnvelopeHandler, processSignal: () => AbortSignal = () => new AbortController().signal): Pass {
  const { redis, keys } = ctx;
  /** With `idleFallback`: the next poll is the simple BRPOP fallback's turn (after an empty advanced Dequeue). */
  let fallbackTurn = false;

  const fail = async (message: JobMessage, error: unknown) => {
    await redis.del(keys.processing(message.id));
    message.error = error instanceof Error ? error.message : String(error);
    if (message.attempts < message.max_retries) {
      const retryAt = Math.floor((Date.now() + ctx.options.retryDelayMs * message.attempts) / 1000);
      await redis.zadd(keys.retry, retryAt, marshal(message));
    } else {
      await redis.lpush(keys.dead, marshal(message));
    }
    // jobs_retried_total / jobs_deadletter_total: registered, never incremented (retry_handler.go,
    // redis_queue.go), so in production they read 0 whatever happens here.
  };

  const processMessage = async (message: JobMessage, signal: AbortSignal) => {
    await redis.set(keys.processing(message.id), marshal(message), "EX", 600);
    message.attempts += 1;
    message.last_attempt = goTime(new Date());
    const envelope =
      message.payload !== null
        ? message.payload
        : { id: message.jobspec_id || message.id, enqueued_at: message.enqueued_at, attempt: message.attempts };
    try {
      await handle(JSON.stringify(envelope), signal);
      await redis.del(keys.processing(message.id));
    } catch (error) {
      if (signal.aborted) return; // shutting down mid-job: leave Redis as a crash would
      await fail(message, error);
    }
  };

  return async (loopSignal) => {
    const signal = AbortSignal.any([loopSignal, processSignal()]);
    // In database-less mode Beacon never starts the worker; `worker-stopped` pops nothing.
    if (!ctx.dbAvailable() || ctx.incidents.isOn("worker-stopped")) return ctx.options.workerIntervalMs;
    if (fallbackTurn) {
      // StartWorker's simple BRPOP between two advanced Dequeues: the message is run, its error ignored.
      fallbackTurn = false;
      const raw = await redis.rpop(keys.main);
      if (raw === null) return ctx.options.workerIntervalMs; // the next poll is the advanced Dequeue's again
      await handle(raw, signal).catch(() => undefined);
      return 0;
    }
    const raw = await redis.rpop(keys.main);
    if (raw !== null) {
      const message = parseJobMessage(raw) ?? rebuildEnvelope(raw);
      if (message) {
        await processMessage(message, signal);
        return 0;
      }
      // Dequeue error (no job id to rebuild from): that message is lost; Beacon then pops one raw
      // envelope and ignores its errors.
      const fallback = await redis.rpop(keys.main);
      if (fallback !== null) await handle(fallback, signal).catch(() => undefined);
      return 0;
    }
    const due = await redis.zrangebyscore(keys.retry, 0, Math.floor(Date.now() / 1000), "LIMIT", 0, 1);
    const member = due[0];
    if (member === undefined) {
      fallbackTurn = ctx.options.idleFallback;
      return ctx.options.workerIntervalMs;
    }
    await redis.zrem(keys.retry, member);
    const message = parseJobMessage(member);
    if (message) await processMessage(message, signal);
    return 0;
  };
}
