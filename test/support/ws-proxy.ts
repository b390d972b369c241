import { connect, type Socket } from "node:net";
import { WebSocketServer, type RawData, type WebSocket } from "ws";

/** A running WebSocket-to-TCP proxy for the Neon driver (see shared/db.ts). */
export interface WsProxy {
  /** `host:port`, to pass as `wsProxy` to createSqlPool. */
  address: string;
  /** What clients sent Postgres through this proxy, counted on the wire. */
  meter: SqlMeter;
  close(): Promise<void>;
}

/**
 * Connections opened and statements sent, read from the frontend messages of the Postgres protocol: a
 * simple query ('Q') counts each statement in its text (split on `;` outside quotes), an extended-protocol
 * query counts one per Execute ('E').
 */
export interface SqlMeter {
  connections: number;
  statements: number;
  /** Each statement's text, in order (a simple query's whole text once per statement in it). */
  texts: string[];
  reset(): void;
}

export interface WsProxyOptions {
  /** Default: a free port. */
  port?: number;
  /**
   * Added to every round trip (the bench's "Beacon 50 ms away"): each frame the client sends reaches
   * Postgres this much later, in order, and the upgrade is answered this much later. Default 0.
   */
  latencyMs?: number;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/**
 * Serves `ws://host:port/v1?address=<host>:<port>` and pipes binary frames to that TCP target.
 * Only loopback targets: a proxy that dials anywhere is an open relay, even on a dev machine.
 */
export async function startWsProxy(opts: WsProxyOptions = {}): Promise<WsProxy> {
  const latencyMs = opts.latencyMs ?? 0;
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: opts.port ?? 0,
    path: "/v1",
    // Refused at the upgrade (HTTP 403), so the driver fails at once with a clear status. A distant
    // database's handshake costs one round trip too.
    verifyClient: (info, done) => {
      const ok = loopbackTarget(info.req.url) !== undefined;
      const answer = () => (ok ? done(true) : done(false, 403, "target not loopback"));
      if (latencyMs > 0) setTimeout(answer, latencyMs);
      else answer();
    },
  });
  const sockets = new Set<Socket>();
  const meter: SqlMeter = { connections: 0, statements: 0, texts: [], reset() { Object.assign(meter, { connections: 0, statements: 0, texts: [] }); } };
  wss.on("connection", (client, req) => {
    const target = loopbackTarget(req.url);
    if (target === undefined) return client.close(1008, "target not loopback");
    const socket = connect(target.port, target.host);
    sockets.add(socket);
    meter.connections++;
    const read = frontendReader(meter);
    pipe(client, socket, () => sockets.delete(socket), read, latencyMs);
  });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  const bound = wss.address();
  if (bound === null || typeof bound === "string") throw new Error("ws proxy has no TCP address");
  return {
    address: `127.0.0.1:${bound.port}`,
    meter,
    async close() {
      for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function pipe(client: WebSocket, socket: Socket, onClosed: () => void, read: (chunk: Buffer) => void, latencyMs: number): void {
  // Writes made before the TCP connect completes are buffered by node:net, in order. Timers of one
  // delay fire in the order they were set, so a delayed stream keeps its order.
  client.on("message", (data) => {
    const chunk = toBuffer(data);
    read(chunk);
    if (latencyMs > 0) setTimeout(() => socket.writable && socket.write(chunk), latencyMs);
    else socket.write(chunk);
  });
  socket.on("data", (chunk) => client.send(chunk, { binary: true }));
  // After the frames still on their way (a delayed Terminate must reach Postgres first).
  client.on("close", () => (latencyMs > 0 ? setTimeout(() => socket.end(), latencyMs) : socket.end()));
  client.on("error", () => socket.destroy());
  socket.on("error", () => client.terminate());
  socket.on("close", () => {
    onClosed();
    if (client.readyState === client.OPEN) client.close();
  });
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** Parses `?address=host:port` (last colon splits, so `::1:5432` works); undefined if not loopback. */
function loopbackTarget(url: string | undefined): { host: string; port: number } | undefined {
  const address = new URL(url ?? "/", "http://proxy").searchParams.get("address") ?? "";
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = Number(address.slice(colon + 1));
  if (colon < 0 || !LOOPBACK.has(host) || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return { host, port };
}

/** Reads a client's frontend messages as they stream by: untyped start-up messages first, then typed ones. */
function frontendReader(meter: SqlMeter): (chunk: Buffer) => void {
  let buffered = Buffer.alloc(0);
  let started = false;
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (!started) {
        if (buffered.length < 8) return;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        const code = buffered.readInt32BE(4);
        buffered = buffered.subarray(length);
        // SSLRequest and GSSENCRequest are followed by another untyped message; the StartupMessage is the last.
        if (code !== 80_877_103 && code !== 80_877_104) started = true;
        continue;
      }
      if (buffered.length < 5) return;
      const length = buffered.readInt32BE(1);
      if (buffered.length < 1 + length) return;
      const type = String.fromCharCode(buffered[0]!);
      const body = buffered.subarray(5, 1 + length);
      buffered = buffered.subarray(1 + length);
      if (type === "Q") {
        const text = body.subarray(0, body.indexOf(0)).toString("utf8");
        const n = statementsIn(text);
        meter.statements += n;
        for (let i = 0; i < n; i++) meter.texts.push(text);
      } else if (type === "P") {
        const name = body.indexOf(0);
        meter.texts.push(body.subarray(name + 1, body.indexOf(0, name + 1)).toString("utf8"));
      } else if (type === "E") {
        meter.statements++;
      }
    }
  };
}

function statementsIn(text: string): number {
  let n = 0;
  let quote: string | undefined;
  let content = false;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      content = true;
    } else if (ch === ";") {
      if (content) n++;
      content = false;
    } else if (!/\s/.test(ch)) content = true;
  }
  return n + (content ? 1 : 0);
}
