/**
 * Redis streams for the ioredis-mock engine. The mock's own stream commands number entries by list
 * length ("3-0", repeated after a MAXLEN trim), compare ids as integers (so `(1-0` or `1-1` match
 * nothing) and ignore COUNT on XREAD: the sentinel's result stream and cursors need the real rules.
 * Entries are kept where the mock keeps them (an array of [id, fields] under the key), so DEL,
 * EXPIRE, EXISTS, SCAN and the mock's XLEN keep working on them.
 */

type Entry = [id: string, fields: string[]];
/** The mock instance's key space (its `data` property). */
export interface MockData {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  has(key: string): boolean;
}
type Id = [ms: number, seq: number];

const MAX_SEQ = Number.MAX_SAFE_INTEGER;
const HANDLED = new Set(["XADD", "XRANGE", "XREVRANGE", "XTRIM", "XDEL", "XREAD"]);

/** Runs a stream command against the mock's data, or returns undefined for any other command. */
export function mockStreamCommand(data: MockData, name: string, args: string[], nowMs: number): { reply: unknown } | undefined {
  if (!HANDLED.has(name) || (name === "XREAD" && args.some((a) => a.toUpperCase() === "BLOCK"))) return undefined;
  const key = args[0] ?? "";
  if (name === "XREAD") return { reply: xread(data, args) };
  const entries = load(data, key);
  if (name === "XRANGE" || name === "XREVRANGE") {
    const [lo, hi] = name === "XRANGE" ? [args[1], args[2]] : [args[2], args[1]];
    const found = entries.filter(([id]) => inRange(id, lo ?? "-", hi ?? "+"));
    if (name === "XREVRANGE") found.reverse();
    return { reply: found.slice(0, count(args, 3) ?? found.length) };
  }
  if (name === "XDEL") {
    args.slice(1).forEach((id) => parseId(id));
    const kept = entries.filter(([id]) => !args.slice(1).includes(id));
    data.set(key, kept);
    return { reply: entries.length - kept.length };
  }
  if (name === "XTRIM") {
    const trimmed = trim(entries, args.slice(1));
    data.set(key, trimmed);
    return { reply: entries.length - trimmed.length };
  }
  return { reply: xadd(data, key, entries, args.slice(1), nowMs) };
}

function xadd(data: MockData, key: string, entries: Entry[], args: string[], nowMs: number): string | null {
  const noMkStream = args[0]?.toUpperCase() === "NOMKSTREAM";
  let i = noMkStream ? 1 : 0;
  const trimArgs: string[] = [];
  if (["MAXLEN", "MINID"].includes(args[i]?.toUpperCase() ?? "")) {
    trimArgs.push(args[i++] ?? "");
    if (args[i] === "=" || args[i] === "~") i++;
    trimArgs.push(args[i++] ?? "");
    if (args[i]?.toUpperCase() === "LIMIT") i += 2;
  }
  const requested = args[i++] ?? "*";
  const fields = args.slice(i);
  if (fields.length === 0 || fields.length % 2 !== 0) throw new Error("ERR wrong number of arguments for 'xadd' command");
  if (noMkStream && !data.has(key)) return null;
  const last = entries.length > 0 ? parseId(entries[entries.length - 1]?.[0] ?? "0-0") : ([0, 0] as Id);
  const id = nextId(requested, last, nowMs);
  if (compare(id, last) <= 0) {
    throw new Error("ERR The ID specified in XADD is equal or smaller than the target stream top item");
  }
  const added = [...entries, [`${id[0]}-${id[1]}`, fields] as Entry];
  data.set(key, trimArgs.length > 0 ? trim(added, trimArgs) : added);
  return `${id[0]}-${id[1]}`;
}

function xread(data: MockData, args: string[]): Array<[string, Entry[]]> | null {
  const limit = args[0]?.toUpperCase() === "COUNT" ? Number(args[1]) : undefined;
  const at = args.findIndex((a) => a.toUpperCase() === "STREAMS");
  const rest = args.slice(at + 1);
  const keys = rest.slice(0, rest.length / 2);
  const out: Array<[string, Entry[]]> = [];
  keys.forEach((key, n) => {
    const after = rest[keys.length + n] ?? "$";
    const newer = after === "$" ? [] : load(data, key).filter(([id]) => compare(parseId(id), parseId(after)) > 0);
    if (newer.length > 0) out.push([key, newer.slice(0, limit ?? newer.length)]);
  });
  return out.length > 0 ? out : null;
}

function trim(entries: Entry[], args: string[]): Entry[] {
  const [strategy, , maybeThreshold] = args;
  const threshold = args[1] === "=" || args[1] === "~" ? maybeThreshold : args[1];
  if (strategy?.toUpperCase() === "MINID") return entries.filter(([id]) => compare(parseId(id), parseId(threshold ?? "0")) >= 0);
  return entries.slice(Math.max(0, entries.length - Number(threshold)));
}

function load(data: MockData, key: string): Entry[] {
  if (!data.has(key)) return [];
  const value = data.get(key);
  const isStream = Array.isArray(value) && value.every((e) => Array.isArray(e) && typeof e[0] === "string");
  if (!isStream) throw new Error("WRONGTYPE Operation against a key holding the wrong kind of value");
  return value as Entry[];
}

function nextId(requested: string, last: Id, nowMs: number): Id {
  if (requested === "*") return nowMs > last[0] ? [nowMs, 0] : [last[0], last[1] + 1];
  const [ms, seq] = requested.split("-");
  if (seq === "*") return Number(ms) === last[0] ? [last[0], last[1] + 1] : [Number(ms), 0];
  return parseId(requested);
}

/** XRANGE bounds: `-`/`+`, `ms` or `ms-seq`, `(` for exclusive. */
function inRange(id: string, lo: string, hi: string): boolean {
  const value = parseId(id);
  const fromLow = lo === "-" ? 1 : compare(value, parseId(lo.replace(/^\(/, ""), 0));
  const toHigh = hi === "+" ? 1 : compare(parseId(hi.replace(/^\(/, ""), MAX_SEQ), value);
  return (lo.startsWith("(") ? fromLow > 0 : fromLow >= 0) && (hi.startsWith("(") ? toHigh > 0 : toHigh >= 0);
}

function parseId(text: string, missingSeq = 0): Id {
  const [ms, seq] = text.split("-");
  const id: Id = [Number(ms), seq === undefined ? missingSeq : Number(seq)];
  if (!Number.isFinite(id[0]) || !Number.isFinite(id[1])) throw new Error("ERR Invalid stream ID specified as stream command argument");
  return id;
}

function compare(a: Id, b: Id): number {
  return a[0] - b[0] || a[1] - b[1];
}

function count(args: string[], from: number): number | undefined {
  return args[from]?.toUpperCase() === "COUNT" ? Number(args[from + 1]) : undefined;
}
