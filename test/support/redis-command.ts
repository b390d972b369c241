import type { Redis } from "ioredis";
import { normalizeMockOptions } from "./mock-options.ts";
import { mockStreamCommand, type MockData } from "./mock-streams.ts";

/** A raw RESP2 reply: bulk strings as Buffers (binary-safe), status strings, integers, nil, arrays. */
export type Reply = Buffer | string | number | null | Reply[];

/** One command's outcome inside a pipeline or transaction, as the Upstash protocol reports it. */
export type Outcome = { result: Reply } | { error: string };

/** An ioredis client or an ioredis-mock instance (the mock's typings claim to be `Redis`). */
export type RedisLike = Redis;

/** Runs raw commands (`[NAME, ...args]`) the same way on real Redis and on ioredis-mock. */
export interface CommandRunner {
  /** Resolves with the reply; rejects with the Redis error text for an error reply. */
  run(command: Buffer[]): Promise<Reply>;
  /** MULTI/EXEC: per-command outcomes; rejects when Redis aborts the whole transaction. */
  transaction(commands: Buffer[][]): Promise<Outcome[]>;
}

export function createCommandRunner(client: RedisLike): CommandRunner {
  return typeof client.callBuffer === "function" ? ioredisRunner(client) : mockRunner(client);
}

function ioredisRunner(client: Redis): CommandRunner {
  // Upper-case names through callBuffer: ioredis only reshapes replies of its lower-case named
  // methods (hgetall -> object), and Buffers keep arbitrary bytes intact. ioredis 5 speaks RESP2.
  const split = (command: Buffer[]): [string, Buffer[]] => [name(command), command.slice(1)];
  return {
    run: async (command) => {
      const [cmd, args] = split(command);
      return normalize(await client.callBuffer(cmd, ...args));
    },
    transaction: async (commands) => {
      const multi = client.multi();
      for (const command of commands) {
        const [cmd, args] = split(command);
        multi.callBuffer(cmd, ...args);
      }
      const replies = await multi.exec(); // rejects with EXECABORT on a queue-time error
      if (replies === null) throw new Error("EXECABORT transaction aborted");
      return replies.map(([error, reply]) => (error ? { error: error.message } : { result: normalize(reply) }));
    },
  };
}

type MockMethod = (...args: string[]) => Promise<unknown>;

/** Mock methods that are not stateless commands: they would reconfigure the shared mock instance. */
const MOCK_REFUSED = new Set(["connect", "quit", "monitor", "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"]);

function mockRunner(client: Redis): CommandRunner {
  const methods = client as unknown as Record<string, MockMethod | undefined>;
  const data = (client as unknown as { data: MockData }).data;
  // The mock has no generic `call`: dispatch to its lower-case method, preferring the Buffer variant.
  const start = (command: Buffer[]): Promise<Reply> => {
    const lower = name(command).toLowerCase();
    // Commands are own properties of a mock instance; EventEmitter and lifecycle methods
    // (emit, disconnect, multi, pipeline...) live on its prototype and must not be reachable.
    const method = Object.hasOwn(client, lower) ? (methods[`${lower}Buffer`] ?? methods[lower]) : undefined;
    if (typeof method !== "function" || MOCK_REFUSED.has(lower)) {
      return Promise.reject(new Error(`ERR unknown command '${lower}'`));
    }
    try {
      // Strings, not Buffers: the mock compares options (NX, MAXLEN, ...) and patterns as JS strings
      // and fails on Buffers. So this engine is only safe for UTF-8 text, not arbitrary bytes.
      const args = normalizeMockOptions(lower.toUpperCase(), command.slice(1).map((arg) => arg.toString("utf8")));
      const stream = mockStreamCommand(data, lower.toUpperCase(), args, Date.now());
      if (stream !== undefined) return Promise.resolve(normalize(stream.reply));
      return method.apply(client, args).then(normalize, (error: unknown) => Promise.reject(redisError(error)));
    } catch (error) {
      return Promise.reject(redisError(error)); // unsupported stubs throw synchronously
    }
  };
  return {
    run: start,
    // The mock applies a command synchronously when it is called, so starting them all in one tick is
    // atomic; unlike the mock's own multi(), one failing command doesn't fail the others (as in Redis).
    transaction: async (commands) => {
      const settled = await Promise.allSettled(commands.map(start));
      return settled.map((s) => (s.status === "fulfilled" ? { result: s.value } : { error: errorText(s.reason) }));
    },
  };
}

function name(command: Buffer[]): string {
  const first = command[0];
  if (first === undefined) throw new Error("ERR empty command");
  return first.toString("utf8").toUpperCase();
}

/** Reduces client-specific shapes to RESP2 ones (the mock returns objects for HGETALL, booleans for some). */
function normalize(value: unknown): Reply {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value) || typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, normalize(v)]);
  return String(value);
}

/** The mock's errors in Redis's words, so callers that check for WRONGTYPE behave the same. */
function redisError(error: unknown): Error {
  const text = errorText(error);
  if (/does not contain a|WRONGTYPE/.test(text)) return new Error("WRONGTYPE Operation against a key holding the wrong kind of value");
  return new Error(/^[A-Z]+ /.test(text) ? text : `ERR ${text}`);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
