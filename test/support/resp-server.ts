import { createServer, type Socket } from "node:net";
import { errorText, type CommandRunner, type Reply } from "./redis-command.ts";

/** A running RESP2 endpoint; `url` is a `redis://` URL for ioredis. */
export interface RespServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the Redis wire protocol (RESP2) over a CommandRunner, so that an ioredis-mock data set that
 * lives in one process (vitest's global setup) can be used with a real ioredis client from another
 * (a test worker), exactly like a real Redis. Covers what ioredis sends: multi-bulk commands, the
 * ready check, SELECT 0 and MULTI/EXEC. No pub/sub and no blocking commands (the mock has neither).
 */
export async function startRespServer(runner: CommandRunner): Promise<RespServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    serve(runner, socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("RESP server has no TCP address");
  return {
    url: `redis://127.0.0.1:${address.port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serve(runner: CommandRunner, socket: Socket): void {
  let pending = Buffer.alloc(0);
  let queued: Buffer[][] | undefined; // inside MULTI
  let chain = Promise.resolve(); // replies must leave in request order
  const execute = async (command: Buffer[]): Promise<string | Buffer> => {
    const name = command[0]?.toString().toUpperCase() ?? "";
    if (name === "MULTI" || name === "DISCARD") {
      queued = name === "MULTI" ? [] : undefined;
      return "+OK\r\n";
    }
    if (name === "EXEC") {
      const commands = queued ?? [];
      queued = undefined;
      const outcomes = await runner.transaction(commands);
      return Buffer.concat([Buffer.from(`*${outcomes.length}\r\n`), ...outcomes.map((o) => ("error" in o ? error(o.error) : encode(o.result)))]);
    }
    if (queued !== undefined) {
      queued.push(command);
      return "+QUEUED\r\n";
    }
    if (name === "SELECT") return command[1]?.toString() === "0" ? "+OK\r\n" : error("ERR only database 0 exists");
    if (name === "QUIT") {
      setImmediate(() => socket.end()); // after this reply is written (microtasks run first)
      return "+OK\r\n";
    }
    return runner.run(command).then(encode, (e: unknown) => error(errorText(e)));
  };
  socket.on("data", (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    try {
      for (let parsed = parse(pending); parsed; parsed = parse(pending)) {
        pending = pending.subarray(parsed.used);
        const command = parsed.command;
        chain = chain.then(async () => {
          const out = await execute(command).catch((e: unknown) => error(errorText(e)));
          if (!socket.destroyed) socket.write(out);
        });
      }
    } catch (e) {
      // A malformed client must never throw inside the global-setup process.
      socket.end(error(errorText(e)));
    }
  });
}

/** One multi-bulk command (`*N\r\n$len\r\n...`) from the front of `buf`, or undefined if incomplete. */
function parse(buf: Buffer): { command: Buffer[]; used: number } | undefined {
  const line = (from: number) => {
    const end = buf.indexOf("\r\n", from);
    return end < 0 ? undefined : { text: buf.toString("latin1", from + 1, end), next: end + 2 };
  };
  const head = line(0);
  if (head === undefined) return undefined;
  if (buf[0] !== 0x2a) throw new Error("RESP server: only multi-bulk commands are supported");
  const command: Buffer[] = [];
  let at = head.next;
  for (let i = 0; i < Number(head.text); i++) {
    const size = line(at);
    if (size === undefined) return undefined;
    const end = size.next + Number(size.text);
    if (buf.length < end + 2) return undefined;
    command.push(buf.subarray(size.next, end));
    at = end + 2;
  }
  return { command, used: at };
}

function encode(reply: Reply): Buffer {
  if (reply === null) return Buffer.from("$-1\r\n");
  if (Array.isArray(reply)) return Buffer.concat([Buffer.from(`*${reply.length}\r\n`), ...reply.map(encode)]);
  if (typeof reply === "number" && Number.isInteger(reply)) return Buffer.from(`:${reply}\r\n`);
  const bytes = Buffer.isBuffer(reply) ? reply : Buffer.from(String(reply));
  return Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n")]);
}

function error(message: string): Buffer {
  const text = message.replace(/\r?\n/g, " ");
  // Clients split the error code off the first word: keep Redis's "ERR ..." shape.
  return Buffer.from(`-${/^[A-Z]+ /.test(text) ? text : `ERR ${text}`}\r\n`);
}
