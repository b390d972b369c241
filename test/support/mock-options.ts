/**
 * ioredis-mock compares option keywords case-sensitively (`options.indexOf("NX")`), while Redis
 * ignores case and @upstash/redis sends several in lower case (`set k v nx`, `scan 0 match p count
 * 10`). Upper-casing every argument that looks like a keyword would corrupt data (a hash field
 * named "count"), so only the option region of the commands the sentinel uses is touched.
 */

const KEYWORDS = new Set([
  "NX", "XX", "GT", "LT", "CH", "INCR", "GET", "EX", "PX", "EXAT", "PXAT", "KEEPTTL", "BYSCORE", "BYLEX",
  "REV", "LIMIT", "WITHSCORES", "MATCH", "COUNT", "TYPE", "NOMKSTREAM", "MAXLEN", "MINID", "BLOCK", "STREAMS",
]);
/** Keywords whose next argument is free text that must not be touched. */
const TAKES_TEXT = new Set(["MATCH", "TYPE"]);

/** Commands whose options run from this index to the end. */
const TRAILING: Record<string, number> = {
  SET: 3, ZRANGE: 4, ZRANGEBYSCORE: 4, ZREVRANGEBYSCORE: 4, ZRANGEBYLEX: 4, XRANGE: 4, XREVRANGE: 4,
  SCAN: 2, HSCAN: 3, SSCAN: 3, ZSCAN: 3, EXPIRE: 3, PEXPIRE: 3, EXPIREAT: 3, PEXPIREAT: 3,
};
/** Commands whose options start here and end before the data (scores, stream id, stream names). */
const LEADING: Record<string, number> = { ZADD: 2, XADD: 2, XREAD: 1 };
/** Keywords, in a leading region, followed by a numeric value (MAXLEN may add `=` or `~` first). */
const TAKES_VALUE = new Set(["MAXLEN", "MINID", "LIMIT", "COUNT", "BLOCK"]);

export function normalizeMockOptions(name: string, args: string[]): string[] {
  const out = [...args];
  const upper = (i: number): boolean => {
    const word = out[i]?.toUpperCase();
    if (word === undefined || !KEYWORDS.has(word)) return false;
    out[i] = word;
    return true;
  };
  const trailing = TRAILING[name];
  if (trailing !== undefined) {
    // `args` excludes the command name, so command index n is args index n - 1.
    for (let i = trailing - 1; i < out.length; i++) if (upper(i) && TAKES_TEXT.has(out[i] ?? "")) i++;
    return out;
  }
  const leading = LEADING[name];
  if (leading === undefined) return out;
  for (let i = leading - 1; i < out.length && upper(i); i++) {
    const word = out[i] ?? "";
    if (word === "STREAMS") break;
    if (!TAKES_VALUE.has(word)) continue;
    if (out[i + 1] === "=" || out[i + 1] === "~") i++;
    i++;
  }
  return out;
}
