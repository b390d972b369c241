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

/** The JSON text of a stored document, or undefined when it is not one we can read. */
export function decodeDocument(raw: string): string | undefined {
  if (!raw.startsWith(PREFIX)) return raw;
  try {
    return gunzipSync(Buffer.from(raw.slice(PREFIX.length), "base64")).toString("utf8");
  } catch {
    return undefined;
  }
}
