import http from "node:http";
import { once } from "node:events";
import { Readable } from "node:stream";
import type { Logger } from "../../shared/log.ts";

/**
 * Small HTTP helpers for the status, remediation and security tests: serving in-process handlers to a
 * real browser, counting the round trips a handler makes to the store, and capturing log lines raw
 * (before any redaction, so a test sees what the code tried to log).
 */

export type FetchHandler = (req: Request, context?: { ip?: string }) => Promise<Response>;

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** Serves handlers by exact path (the query string is passed through) on 127.0.0.1. */
export async function serveHandlers(routes: Record<string, FetchHandler>): Promise<Served> {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    // "/a/b/*" serves every "/a/b/<one segment>" (an id in the path) not served exactly.
    const handler = routes[url.pathname] ?? routes[url.pathname.replace(/\/[^/]+$/, "/*")];
    if (!handler) return void res.writeHead(404).end("no such route");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length && req.method !== "GET" && req.method !== "HEAD" ? Buffer.concat(chunks) : undefined;
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const response = await handler(new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body }), { ip: "127.0.0.1" });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) Readable.fromWeb(response.body as never).pipe(res);
    else res.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface CountingProxy extends Served {
  /** Requests forwarded so far (each one is a round trip to the store). */
  count(): number;
  reset(): void;
}

/** Forwards every request to `target` (the Upstash bridge) and counts them. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  let n = 0;
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    n++;
    const forward = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.writeHead(502).end());
    req.pipe(forward);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => n,
    reset: () => void (n = 0),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A logger that keeps every line as JSON text, unredacted. */
export function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push(JSON.stringify({ level, message, ...fields }));
  return { lines, info: write("info"), warn: write("warn"), error: write("error") };
}
