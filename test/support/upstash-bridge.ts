import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createCommandRunner, errorText, type CommandRunner, type Outcome, type RedisLike, type Reply } from "./redis-command.ts";

/** A running Upstash-REST-compatible endpoint; pass `url` and `token` to `new Redis({url, token})`. */
export interface UpstashBridge {
  url: string;
  token: string;
  /** What the bridge has served, counted the way Upstash bills it. */
  meter: BridgeMeter;
  close(): Promise<void>;
}

/**
 * Upstash bills every command, including each one inside a pipeline or transaction; scripts (EVAL,
 * EVALSHA) are counted apart because its pricing does not say whether a script is one command or
 * the commands it runs. Bytes are request and response bodies, as transfer is counted.
 */
export interface BridgeMeter {
  requests: number;
  commands: number;
  scripts: number;
  bytesIn: number;
  bytesOut: number;
  byCommand: Record<string, number>;
  reset(): void;
}

function createMeter(): BridgeMeter {
  const meter: BridgeMeter = {
    requests: 0, commands: 0, scripts: 0, bytesIn: 0, bytesOut: 0, byCommand: {},
    reset() {
      Object.assign(meter, { requests: 0, commands: 0, scripts: 0, bytesIn: 0, bytesOut: 0, byCommand: {} });
    },
  };
  return meter;
}

function count(meter: BridgeMeter, commands: Buffer[][]) {
  meter.commands += commands.length;
  for (const c of commands) {
    const name = String(c[0]).toUpperCase();
    meter.byCommand[name] = (meter.byCommand[name] ?? 0) + 1;
    if (name === "EVAL" || name === "EVALSHA") meter.scripts++;
  }
}

export interface UpstashBridgeOptions {
  /** Called once; the bridge owns (and closes) the client it returns. */
  redis: () => RedisLike;
  /** The bearer token clients must send. */
  token: string;
  /** Default: a free port. */
  port?: number;
}

// A request/response bridge shares one connection between all callers: commands that block it or
// change its state (database, subscriptions, watches) would leak into other requests.
const REFUSED = new Set([
  "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF",
  "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR",
  "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "SELECT", "SWAPDB", "QUIT", "RESET", "HELLO", "SHUTDOWN",
]);

class BadRequest extends Error {}

/** Serves Upstash's REST protocol (`/`, `/pipeline`, `/multi-exec`) over a real or mocked Redis. */
export async function startUpstashBridge(opts: UpstashBridgeOptions): Promise<UpstashBridge> {
  const client = opts.redis();
  const runner = createCommandRunner(client);
  const meter = createMeter();
  const server = createServer((req, res) => {
    handle(runner, opts.token, req, res, meter).catch((error: unknown) => reply(res, 500, { error: errorText(error) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("Upstash bridge has no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    token: opts.token,
    meter,
    async close() {
      // fetch keeps connections alive; without closing them server.close() would wait for their timeout.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client.quit().catch(() => client.disconnect());
    },
  };
}

async function handle(runner: CommandRunner, token: string, req: IncomingMessage, res: ServerResponse, meter: BridgeMeter): Promise<void> {
  if (req.headers.authorization !== `Bearer ${token}`) return reply(res, 401, { error: "Unauthorized" });
  if (req.method !== "POST") return reply(res, 405, { error: "only POST is supported" });
  const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
  const encodeOutcome = (o: Outcome) => ("error" in o ? o : { result: encode(o.result, base64) });
  const path = new URL(req.url ?? "/", "http://bridge").pathname.replace(/\/+$/, "");
  try {
    const text = await readBody(req);
    meter.requests++;
    meter.bytesIn += Buffer.byteLength(text);
    const body: unknown = JSON.parse(text);
    if (path === "") {
      const command = toCommand(body);
      count(meter, [command]);
      return reply(res, 200, { result: encode(await runner.run(command), base64) }, meter);
    }
    if (!Array.isArray(body)) throw new BadRequest(`ERR ${path} expects an array of commands`);
    const commands = body.map(toCommand); // validate all before running any
    count(meter, commands);
    if (path === "/pipeline") {
      // Issued in one tick: order is kept on the single connection, atomicity is not promised.
      const settled = await Promise.allSettled(commands.map((c) => runner.run(c)));
      const outcomes = settled.map((s): Outcome => (s.status === "fulfilled" ? { result: s.value } : { error: errorText(s.reason) }));
      return reply(res, 200, outcomes.map(encodeOutcome), meter);
    }
    if (path === "/multi-exec") return reply(res, 200, (await runner.transaction(commands)).map(encodeOutcome), meter);
    return reply(res, 404, { error: `unknown path ${path}` });
  } catch (error) {
    // Bad JSON, refused commands and Redis error replies are all the caller's to fix: 400, as Upstash does.
    return reply(res, 400, { error: error instanceof SyntaxError ? `ERR invalid JSON: ${error.message}` : errorText(error) });
  }
}

function toCommand(value: unknown): Buffer[] {
  if (!Array.isArray(value) || value.length === 0) throw new BadRequest("ERR a command is a non-empty JSON array");
  const command = value.map((arg: unknown) => {
    if (typeof arg === "string") return Buffer.from(arg, "utf8");
    if (typeof arg === "number" || typeof arg === "boolean") return Buffer.from(String(arg));
    throw new BadRequest(`ERR command arguments must be strings or numbers, got ${JSON.stringify(arg)}`);
  });
  const name = String(command[0]).toUpperCase();
  const blockingRead = (name === "XREAD" || name === "XREADGROUP") && command.some((a) => a.toString().toUpperCase() === "BLOCK");
  if (REFUSED.has(name) || blockingRead) {
    throw new BadRequest(`ERR ${name}${blockingRead ? " BLOCK" : ""} is not supported over the REST bridge (it blocks or changes the shared connection); poll instead`);
  }
  return command;
}

/** Upstash's base64 mode: every bulk/status string, recursively; integers and nil as they are. */
function encode(value: Reply, base64: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => encode(v, base64));
  if (Buffer.isBuffer(value)) return value.toString(base64 ? "base64" : "utf8");
  if (typeof value === "string") return base64 ? Buffer.from(value, "utf8").toString("base64") : value;
  return value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function reply(res: ServerResponse, status: number, body: unknown, meter?: BridgeMeter): void {
  const text = JSON.stringify(body);
  if (meter) meter.bytesOut += Buffer.byteLength(text);
  res.writeHead(status, { "content-type": "application/json" }).end(text);
}
