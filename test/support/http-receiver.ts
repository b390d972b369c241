import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One scripted answer; `delayMs` answers late (the request counts as received on arrival). */
export interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
  /** Handle the request as usual (it takes effect) and only then answer with this delay: a slow receiver. */
  slowPass?: boolean;
}

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  status: number;
}

export interface HttpReceiver {
  url: string;
  /** Every request and what it was answered. */
  requests: Received[];
  script(answers: Scripted[]): void;
  close(): Promise<void>;
}

/**
 * A local HTTP endpoint that answers scripted faults first, then hands requests to `handle` (or, with
 * `forward`, passes them to a real server: faults in front of a real Alertmanager).
 */
export async function startHttpReceiver(options: {
  handle?: (req: { method: string; path: string; headers: IncomingHttpHeaders; raw: string }) => Promise<Scripted> | Scripted;
  forward?: string;
} = {}): Promise<HttpReceiver> {
  const requests: Received[] = [];
  const queue: Scripted[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const base = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, raw };
    const normal = async () => (options.forward ? await forward(options.forward, base) : options.handle ? await options.handle(base) : { status: 200, body: "ok" });
    const scripted = queue.shift();
    const answer = scripted?.slowPass ? { ...(await normal()), delayMs: scripted.delayMs } : (scripted ?? (await normal()));
    requests.push({ ...base, status: answer.status });
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (res.destroyed) return;
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
    res.end(answer.body ?? "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (answers) => void queue.push(...answers),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function forward(target: string, req: { method: string; path: string; raw: string }): Promise<Scripted> {
  const response = await fetch(new URL(req.path, target), {
    method: req.method, body: req.method === "GET" ? undefined : req.raw, headers: { "content-type": "application/json" },
  });
  return { status: response.status, body: await response.text() };
}
