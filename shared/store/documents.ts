import type { z } from "zod";
import { decodeDocument } from "./codec.ts";

/**
 * Reads a document the sentinel stored as JSON. Stored values are data written by earlier (maybe
 * older) versions, plain or gzipped (codec.ts), so anything unreadable is `undefined`, never an exception; callers decide the
 * fallback. Accepts an already-parsed value too, whatever the client's deserialisation setting.
 */
export function readStored<T>(schema: z.ZodType<T>, raw: unknown): T | undefined {
  if (raw === null || raw === undefined) return undefined;
  let value: unknown = raw;
  if (typeof raw === "string") {
    const text = decodeDocument(raw);
    if (text === undefined) return undefined;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
