import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync } from "node:zlib";

/**
 * Documents the tick rewrites every minute (its state, the ledger, the past) are stored compressed:
 * JSON of counters, evidence and timelines shrinks five- to tenfold, and Upstash's free tier counts
 * transfer as well as commands. A stored value starting with `br:` is base64 Brotli (node's zlib; at
 * quality 6 it took the state 9% below gzip's level 9 for ~5 ms a write), `gz:` base64 gzip (written
 * before Brotli, still read); anything else is plain JSON, so older documents and hand-written test
 * fixtures still read.
 */
const BROTLI = "br:";
const GZIP = "gz:";

/** Below this size compression saves too little to be worth the unreadable value. */
const MIN_BYTES = 512;

export function encodeDocument(value: unknown): string {
  const json = JSON.stringify(value);
  if (json.length < MIN_BYTES) return json;
  const packed = brotliCompressSync(json, { params: { [constants.BROTLI_PARAM_QUALITY]: 6, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: json.length } });
  return BROTLI + packed.toString("base64");
}

/**
 * The most a stored document may inflate to: hundreds of times what the sentinel writes (its state
 * is under 10 KB stored, `cost`), so a value that inflates past it is not one the sentinel wrote (a
 * bomb: 64 MB of one byte gzips to about 64 KB) and is refused, never inflated without limit.
 */
export const MAX_INFLATED_BYTES = 4 * 1024 * 1024;

/** The JSON text of a stored document, or undefined when it is not one we can read (not compressed as said, or inflating past MAX_INFLATED_BYTES). */
export function decodeDocument(raw: string): string | undefined {
  const inflate = raw.startsWith(BROTLI) ? brotliDecompressSync : raw.startsWith(GZIP) ? gunzipSync : undefined;
  if (!inflate) return raw.length > MAX_INFLATED_BYTES ? undefined : raw;
  try {
    // zlib stops at the bound and throws (ERR_BUFFER_TOO_LARGE): nothing past it is ever held in memory.
    return inflate(Buffer.from(raw.slice(BROTLI.length), "base64"), { maxOutputLength: MAX_INFLATED_BYTES }).toString("utf8");
  } catch {
    return undefined;
  }
}
