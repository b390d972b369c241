/**
 * A minimal gin look-alike on node:http: exact routes with `:param` segments, JSON bodies encoded
 * like Go's encoding/json (HTML-safe escaping), gin's plain-text 404, gin's ClientIP() (trusts
 * X-Forwarded-For / X-Real-IP), and Beacon's HTTP metrics labelled with the route template.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { goEscapeJsonText } from "../../shared/beacon/signing.ts";
import type { Metrics } from "./metrics.ts";

export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  params: Record<string, string>;
  body: Buffer;
  clientIp: string;
}

export interface Response {
  status: number;
  /** Encoded as JSON unless `text` is set. */
  json?: unknown;
  text?: string;
  contentType?: string;
}

export type Handler = (req: Request) => Promise<Response> | Response;

export interface Route {
  method: "GET" | "POST" | "HEAD";
  pattern: string;
  handler: Handler;
  /** Not one of Beacon's routes: kept out of http_requests_total. */
  internal?: boolean;
}

/** A JSON response, the usual case. */
export const json = (status: number, body: unknown): Response => ({ status, json: body });

/** Beacon's JSON error shape. */
export const jsonError = (status: number, error: string, extra: Record<string, unknown> = {}): Response => json(status, { error, ...extra });

const MAX_BODY_BYTES = 1 << 20; // ValidateJobSpec reads at most 1 MiB

function match(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    if (segment.startsWith(":")) {
      if (got[i] === "") return undefined;
      try {
        params[segment.slice(1)] = decodeURIComponent(got[i]!);
      } catch {
        return undefined; // malformed escape: no route matches
      }
    } else if (segment !== got[i]) return undefined;
  }
  return params;
}

function clientIp(req: IncomingMessage): string {
  const forwarded = String(req.headers["x-forwarded-for"] ?? "").split(",")[0]?.trim();
  const real = String(req.headers["x-real-ip"] ?? "").trim();
  return forwarded || real || (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size <= MAX_BODY_BYTES) chunks.push(buffer);
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES);
}

export function createHttpServer(routes: Route[], metrics: Metrics): Server {
  return createServer((req, res) => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? "/", "http://sandbox");
    const method = req.method ?? "GET";
    let route: Route | undefined;
    let params: Record<string, string> | undefined;
    for (const candidate of routes) {
      if (candidate.method !== method) continue;
      params = match(candidate.pattern, url.pathname);
      if (params) {
        route = candidate;
        break;
      }
    }
    const send = (response: Response) => {
      const body = response.text ?? goEscapeJsonText(JSON.stringify(response.json ?? null));
      const type = response.contentType ?? (response.text === undefined ? "application/json; charset=utf-8" : "text/plain; charset=utf-8");
      res.writeHead(response.status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
      res.end(method === "HEAD" ? undefined : body);
      if (route?.internal) return;
      const path = route?.pattern ?? url.pathname;
      metrics.inc("http_requests_total", { path, method, status: String(response.status) });
      metrics.observe("http_request_duration_seconds", Number(process.hrtime.bigint() - started) / 1e9, { path, method });
    };
    (async () => {
      if (!route || !params) return send({ status: 404, text: "404 page not found" });
      const body = await readBody(req);
      const request: Request = { method, path: url.pathname, query: url.searchParams, headers: req.headers, params, body, clientIp: clientIp(req) };
      return send(await route.handler(request));
    })().catch((error: unknown) => {
      if (!res.headersSent) send(jsonError(500, error instanceof Error ? error.message : String(error)));
      else res.destroy();
    });
  });
}

/** `strconv.Atoi`: an optionally signed decimal integer, else undefined. */
export function atoi(text: string | null): number | undefined {
  if (text === null || !/^[+-]?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}
