import http from "node:http";
import net from "node:net";
import { once } from "node:events";

/**
 * Fault injection between the sentinel and what it talks to, for the fault matrix: a proxy in front
 * of the store whose behaviour can be switched per request, a TCP server that accepts and never says a
 * word, and a heartbeat receiver (healthchecks.io's ping endpoint, as far as the sentinel uses it).
 */

/** What the proxy does with one request: forward it, after a delay, drop the connection, never answer, or answer itself without forwarding (a store that says OK and keeps nothing). */
export type ProxyMode = { kind: "pass" } | { kind: "slow"; delayMs: number } | { kind: "drop" } | { kind: "silent" } | { kind: "answer"; status: number; body: string };

export interface FaultyProxy {
  url: string;
  /** Requests seen so far, whatever was done with them. */
  count(): number;
  /** Decides each request's fate from its 0-based index and its body; the default forwards everything. */
  behave(decide: (index: number, body: string) => ProxyMode): void;
  close(): Promise<void>;
}

export async function startFaultyProxy(target: string): Promise<FaultyProxy> {
  const upstream = new URL(target);
  let n = 0;
  let decide: (index: number, body: string) => ProxyMode = () => ({ kind: "pass" });
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const mode = decide(n++, body.toString("utf8"));
    if (mode.kind === "silent") return; // read nothing back, answer nothing: the client's timeout is all that ends it
    if (mode.kind === "drop") return void req.socket.destroy();
    if (mode.kind === "answer") return void res.writeHead(mode.status, { "content-type": "application/json" }).end(mode.body);
    if (mode.kind === "slow") await new Promise((resolve) => setTimeout(resolve, mode.delayMs));
    if (res.destroyed) return;
    const forward = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.headersSent || res.writeHead(502).end());
    forward.end(body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => n,
    behave: (fn) => void (decide = fn),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP server that accepts every connection and never says a word (a silent database, Redis or store). */
export async function startSilentServer(): Promise<{ port: number; url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Ping {
  method: string;
  /** The path after the check's own URL: "" for a success ping, "/fail" for a failure. */
  suffix: string;
  body: string;
}

export interface HeartbeatReceiver {
  /** A ping URL shaped like healthchecks.io's, with a random check id as its secret. */
  url: string;
  checkId: string;
  pings: Ping[];
  /** How to answer from now on: 200 "OK", another status, or never. */
  answer(mode: { status: number } | "hang"): void;
  close(): Promise<void>;
}

export async function startHeartbeatReceiver(): Promise<HeartbeatReceiver> {
  const checkId = crypto.randomUUID();
  const pings: Ping[] = [];
  let mode: { status: number } | "hang" = { status: 200 };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const prefix = `/ping/${checkId}`;
    if (!path.startsWith(prefix)) return void res.writeHead(404).end("not found");
    pings.push({ method: req.method ?? "", suffix: path.slice(prefix.length), body: Buffer.concat(chunks).toString("utf8") });
    if (mode === "hang") return;
    res.writeHead(mode.status, { "content-type": "text/plain" }).end(mode.status === 200 ? "OK" : "error");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/ping/${checkId}`,
    checkId,
    pings,
    answer: (m) => void (mode = m),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
