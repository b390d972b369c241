import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** One scripted answer; after the script runs out every request gets 200 "ok", like Slack. */
export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /**
   * Answer this long after the request arrived. The message counts as posted on arrival, as Slack's
   * does: a slow-accepting Slack posts what the client then gives up waiting for.
   */
  delayMs?: number;
}

export interface ReceivedRequest {
  body: any;
  /** Receipt time from the receiver's clock (injectable, so tests can assert spacing without wall time). */
  at: number;
}

export interface SlackReceiver {
  /** A webhook URL shaped like Slack's, with a random secret token in its path. */
  url: string;
  /** The secret part of `url`, for leak assertions. */
  token: string;
  /** Requests answered 200: the messages Slack would have posted. */
  received: ReceivedRequest[];
  /** Every request, whatever it was answered: one per attempt. */
  requests: (ReceivedRequest & { status: number })[];
  /** The next N requests get these answers, in order, then 200 "ok". */
  script(responses: ScriptedResponse[]): void;
  close(): Promise<void>;
}

/** A local stand-in for Slack's incoming-webhook endpoint (POST JSON, answers text/plain). */
export async function startSlackReceiver(options: { now?: () => number } = {}): Promise<SlackReceiver> {
  const now = options.now ?? (() => performance.now());
  const token = randomBytes(12).toString("hex");
  const received: ReceivedRequest[] = [];
  const requests: (ReceivedRequest & { status: number })[] = [];
  const queue: ScriptedResponse[] = [];

  const server = createServer(async (req, res) => {
    const at = now();
    const body = parseBody(await readBody(req));
    const answer = queue.shift() ?? { status: 200, body: "ok" };
    requests.push({ body, at, status: answer.status });
    if (answer.status === 200) received.push({ body, at });
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (res.destroyed) return; // the client gave up waiting
    res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
    res.end(answer.body ?? (answer.status === 200 ? "ok" : ""));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/services/T00000000/B00000000/${token}`,
    token,
    received,
    requests,
    script: (responses) => void queue.push(...responses),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // fetch keeps connections alive; close() alone would wait for them
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
