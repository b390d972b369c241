import type { z } from "zod";
import { boundedFetch, excerpt, parseJson } from "../../http.ts";
import { safeUrl } from "../../redact.ts";
import type { ProbeContext } from "../types.ts";
import { describe } from "./judge.ts";

/** Why a JSON read of Beacon's API did not yield the documented shape. */
export type ReadFailure = "unreachable" | "http" | "too-large" | "not-json" | "shape";

export type JsonRead<T> =
  | { ok: true; value: T; status: number; shown: string }
  | {
      ok: false;
      failure: ReadFailure;
      /** HTTP status, failure kind or byte count: the check's `observed`. */
      observed: string | number;
      message: string;
      /** The body as JSON when it parsed (an error body, or a body of the wrong shape). */
      json?: unknown;
      shown: string;
    };

export interface ReadOptions {
  timeoutMs: number;
  maxBytes: number;
}

/**
 * GETs a URL of Beacon's API and validates the body: time- and size-bounded, never throws. Every way
 * it can go wrong comes back as a message that names the URL and what was seen.
 */
export async function readJson<S extends z.ZodType>(ctx: ProbeContext<unknown>, url: string, schema: S, o: ReadOptions): Promise<JsonRead<z.infer<S>>> {
  const shown = safeUrl(url);
  const res = await boundedFetch(url, {
    fetch: ctx.deps.fetch, now: ctx.deps.now, signal: ctx.signal,
    timeoutMs: o.timeoutMs, maxBytes: o.maxBytes, headers: { accept: "application/json" },
  });
  if (!res.ok) return { ok: false, failure: "unreachable", observed: res.failure, message: `${shown}: ${res.message}`, shown };
  if (res.status < 200 || res.status > 299) {
    const body = res.truncated ? undefined : parseJson(res.text);
    return { ok: false, failure: "http", observed: res.status, message: `${shown} -> HTTP ${res.status}: ${excerpt(res.text) || "(empty body)"}`,
      ...(body?.ok ? { json: body.value } : {}), shown };
  }
  if (res.truncated) {
    return { ok: false, failure: "too-large", observed: res.bytes, message: `${shown}: body larger than ${o.maxBytes} bytes (not read further)`, shown };
  }
  const parsed = parseJson(res.text);
  if (!parsed.ok) return { ok: false, failure: "not-json", observed: res.status, message: `${shown}: ${parsed.message}: ${excerpt(res.text, 60)}`, shown };
  const valid = schema.safeParse(parsed.value);
  if (!valid.success) {
    return { ok: false, failure: "shape", observed: res.status, message: `${shown}: not Beacon's shape (${describe(valid.error).join("; ")})`, json: parsed.value, shown };
  }
  return { ok: true, value: valid.data, status: res.status, shown };
}
