import { gunzipSync, gzipSync } from "node:zlib";

/**
 * Documents the tick rewrites every minute (its state, the status document) are stored gzipped:
 * JSON of counters, evidence and timelines shrinks five- to tenfold, and Upstash's free tier counts
 * transfer (10 GB a month) as well as commands. A stored value starting with `gz:` is base64 gzip;
 * anything else is plain JSON, so older documents and hand-written test fixtures still read.
 */
const PREFIX = "gz:";

/** Below this size compression saves too little to be worth the unreadable value. */
const MIN_BYTES = 512;

export function encodeDocument(value: unknown): string {
  const json = JSON.stringify(value);
  if (json.length < MIN_BYTES) return json;
  return PREFIX + gzipSync(json, { level: 6 }).toString("base64");
}

/**
 * The most a stored document may inflate to: hundreds of times what the sentinel writes (its state
 * is 10.7 KB stored after a simulated hour, `cost`), so a value that inflates past it is not one the
 * sentinel wrote (a gzip bomb: 64 MB of one byte gzips to about 64 KB) and is refused, never
 * inflated without limit.
 */
export const MAX_INFLATED_BYTES = 4 * 1024 * 1024;

/** The JSON text of a stored document, or undefined when it is not one we can read (not gzip, or inflating past MAX_INFLATED_BYTES). */
export function decodeDocument(raw: string): string | undefined {
  if (!raw.startsWith(PREFIX)) return raw.length > MAX_INFLATED_BYTES ? undefined : raw;
  try {
    // zlib stops at the bound and throws (ERR_BUFFER_TOO_LARGE): nothing past it is ever held in memory.
    return gunzipSync(Buffer.from(raw.slice(PREFIX.length), "base64"), { maxOutputLength: MAX_INFLATED_BYTES }).toString("utf8");
  } catch {
    return undefined;
  }
}
