import { connect, type Socket } from "node:net";
import { WebSocketServer, type RawData, type WebSocket } from "ws";

/** A running WebSocket-to-TCP proxy for the Neon driver (see shared/db.ts). */
export interface WsProxy {
  /** `host:port`, to pass as `wsProxy` to createSqlPool. */
  address: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/**
 * Serves `ws://host:port/v1?address=<host>:<port>` and pipes binary frames to that TCP target.
 * Only loopback targets: a proxy that dials anywhere is an open relay, even on a dev machine.
 */
export async function startWsProxy(opts: { port?: number } = {}): Promise<WsProxy> {
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: opts.port ?? 0,
    path: "/v1",
    // Refused at the upgrade (HTTP 403), so the driver fails at once with a clear status.
    verifyClient: (info, done) => (loopbackTarget(info.req.url) ? done(true) : done(false, 403, "target not loopback")),
  });
  const sockets = new Set<Socket>();
  wss.on("connection", (client, req) => {
    const target = loopbackTarget(req.url);
    if (target === undefined) return client.close(1008, "target not loopback");
    const socket = connect(target.port, target.host);
    sockets.add(socket);
    pipe(client, socket, () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  const bound = wss.address();
  if (bound === null || typeof bound === "string") throw new Error("ws proxy has no TCP address");
  return {
    address: `127.0.0.1:${bound.port}`,
    async close() {
      for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function pipe(client: WebSocket, socket: Socket, onClosed: () => void): void {
  // Writes made before the TCP connect completes are buffered by node:net, in order.
  client.on("message", (data) => socket.write(toBuffer(data)));
  socket.on("data", (chunk) => client.send(chunk, { binary: true }));
  client.on("close", () => socket.end());
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
