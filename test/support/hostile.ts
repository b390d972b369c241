import http from "node:http";
import { once } from "node:events";

/**
 * A local HTTP server that misbehaves on purpose, standing in for a broken probed system: it hangs,
 * sends garbage or sends far too much. What it serves is test input, not a fake of our own logic.
 */
export interface HostileServer {
  url: string;
  close(): Promise<void>;
}

export type Behaviour =
  | { kind: "hang" }
  | { kind: "body"; status: number; body: string | Buffer; contentType?: string }
  | { kind: "huge"; status: number; bytes: number }
  /** Answers headers at once, then one byte every `everyMs`, never finishing. */
  | { kind: "trickle"; status: number; everyMs: number };

export async function startHostileServer(routes: Record<string, Behaviour>): Promise<HostileServer> {
  const server = http.createServer((req, res) => {
    const route = routes[new URL(req.url ?? "/", "http://x").pathname];
    if (!route) return void res.writeHead(404).end("not found");
    if (route.kind === "hang") return; // never answers
    if (route.kind === "trickle") {
      res.writeHead(route.status, { "content-type": "application/json" });
      res.write("{");
      const timer = setInterval(() => res.write(" "), route.everyMs);
      res.on("close", () => clearInterval(timer));
      res.on("error", () => clearInterval(timer));
      return;
    }
    if (route.kind === "body") {
      res.writeHead(route.status, { "content-type": route.contentType ?? "application/json" });
      return void res.end(route.body);
    }
    res.writeHead(route.status, { "content-type": "application/json" });
    const chunk = Buffer.alloc(64 * 1024, "a");
    let sent = 0;
    const pump = () => {
      while (sent < route.bytes) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    res.on("error", () => {});
    pump();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
