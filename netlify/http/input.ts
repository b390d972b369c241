import { z } from "zod";
import { badRequest, HttpError, invalidInput } from "./errors.ts";

/**
 * Caller input: the query string and the body, each validated with zod. On routes that act, unknown
 * query parameters are an error (a typo such as ?dryrun=true must not silently execute); read-only
 * routes ignore them, as caches and scrapers expect (a README badge's ?v=2, a Prometheus `params:`).
 * Bodies are read up to a cap.
 */

export interface QueryOptions {
  /** "reject" (default): 400 naming the parameter. "ignore": for read-only routes. */
  unknown?: "reject" | "ignore";
}

/** Parses the query string with an object schema; 400 names bad, repeated or (unless ignored) unknown parameters. */
export function parseQuery<T extends z.ZodRawShape>(url: URL, shape: T, options: QueryOptions = {}): z.infer<z.ZodObject<T>> {
  const known = Object.keys(shape);
  const raw: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (!known.includes(key) && options.unknown === "ignore") continue;
    if (!known.includes(key)) {
      throw badRequest(`unknown query parameter "${key.slice(0, 40)}"; this route takes ${known.length ? known.join(", ") : "none"}`);
    }
    if (key in raw) throw badRequest(`give the query parameter "${key}" once`);
    raw[key] = value;
  }
  const parsed = z.object(shape).safeParse(raw);
  if (!parsed.success) throw invalidInput("query", parsed.error);
  return parsed.data;
}

/** "true" or "false" in a query string. */
export const QueryFlag = z.enum(["true", "false"], { error: 'must be "true" or "false"' }).transform((v) => v === "true");

/**
 * Reads a JSON body of at most `maxBytes`, counting the bytes as they arrive (Content-Length can lie or
 * be absent). An empty body is `undefined`. 413 when too large, 415 when not JSON, 400 when unparsable.
 */
export async function readJsonBody(req: Request, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const text = await readCapped(req, maxBytes);
  if (text.trim() === "") return undefined;
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("the body is not valid JSON");
  }
}

/** Validates a parsed body; 400 lists every problem as `body.<path>: <message>`. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw invalidInput("body", parsed.error);
  return parsed.data;
}

async function readCapped(req: Request, maxBytes: number): Promise<string> {
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, "payload_too_large", `the body must be at most ${maxBytes} bytes`);
}
