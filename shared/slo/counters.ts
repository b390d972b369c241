import type { Counts, CountWindow } from "./evaluate.ts";

/**
 * Compact event counters: one Redis hash per event source, with good/total fields at three
 * resolutions (minute, hour, day). Evaluating 30 days then costs one HGETALL per source, whatever
 * the number of samples. Fields past their resolution's retention are pruned on write, and the whole
 * hash expires after the period plus the longest window when nothing feeds it.
 */
const RESOLUTIONS = [
  { tag: "m", ms: 60_000, keepMs: 7 * 3_600_000 },
  { tag: "h", ms: 3_600_000, keepMs: 4 * 86_400_000 },
  { tag: "d", ms: 86_400_000, keepMs: 0 /* the period, set per call */ },
] as const;

export type CounterHash = Record<string, number>;

/** HINCRBY increments for `counts` observed at `atMs`. */
export function increments(counts: Counts, atMs: number): [field: string, by: number][] {
  return RESOLUTIONS.flatMap((r) => {
    const bucket = Math.floor(atMs / r.ms);
    return [[`${r.tag}${bucket}g`, counts.good], [`${r.tag}${bucket}t`, counts.total]] as [string, number][];
  });
}

/** Fields of `hash` older than their resolution keeps (days: the longest period plus a day). */
export function staleFields(hash: CounterHash, nowMs: number, periodDays: number): string[] {
  return Object.keys(hash).filter((field) => {
    const r = RESOLUTIONS.find((x) => x.tag === field[0]);
    const bucket = Number(field.slice(1, -1));
    if (!r || !Number.isFinite(bucket)) return true;
    const keepMs = r.tag === "d" ? (periodDays + 1) * 86_400_000 : r.keepMs;
    return (bucket + 1) * r.ms < nowMs - keepMs;
  });
}

/**
 * Sums a window from the finest resolution that still covers it. Buckets are counted when they start
 * inside [fromMs, toMs), so a window is exact to its resolution (a minute, an hour or a day).
 */
export function windowCounter(hashes: Record<string, CounterHash>, nowMs: number): CountWindow {
  return (source, fromMs, toMs) => {
    const hash = hashes[source] ?? {};
    const span = nowMs - fromMs;
    const r = RESOLUTIONS.find((x) => x.tag === "d" || span <= x.keepMs) ?? RESOLUTIONS[2];
    const first = Math.ceil(fromMs / r.ms);
    const last = Math.ceil(toMs / r.ms) - 1;
    let good = 0;
    let total = 0;
    for (let b = first; b <= last; b++) {
      good += hash[`${r.tag}${b}g`] ?? 0;
      total += hash[`${r.tag}${b}t`] ?? 0;
    }
    return { good, total };
  };
}

/** Parses an HGETALL reply (strings or numbers) into numbers, dropping anything that is not one. */
export function parseCounterHash(raw: Record<string, unknown> | null): CounterHash {
  const out: CounterHash = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    const n = Number(v);
    if (Number.isFinite(n)) out[k] = n;
  }
  return out;
}

/**
 * A counter hash as stored: per resolution, the first bucket and then every bucket's good and total in
 * order, dense (0 where none ran). A source counted every minute is then runs of equal numbers, which
 * gzip takes to almost nothing, where 900 `m29456789g`-style field names cost 5 KB of every minute's
 * write. `unpackCounters` gives back the same hash, less fields that were 0 (read as 0 anyway).
 */
export type PackedCounters = Record<string, [first: number, good: number[], total: number[]]>;

export function packCounters(hash: CounterHash): PackedCounters {
  const packed: PackedCounters = {};
  for (const r of RESOLUTIONS) {
    const buckets = Object.keys(hash).filter((f) => f[0] === r.tag).map((f) => Number(f.slice(1, -1))).filter(Number.isFinite);
    if (!buckets.length) continue;
    const first = Math.min(...buckets);
    const last = Math.max(...buckets);
    const good: number[] = [];
    const total: number[] = [];
    for (let b = first; b <= last; b++) {
      good.push(hash[`${r.tag}${b}g`] ?? 0);
      total.push(hash[`${r.tag}${b}t`] ?? 0);
    }
    packed[r.tag] = [first, good, total];
  }
  return packed;
}

export function unpackCounters(packed: PackedCounters): CounterHash {
  const hash: CounterHash = {};
  for (const [tag, [first, good, total]] of Object.entries(packed)) {
    good.forEach((n, k) => { if (n) hash[`${tag}${first + k}g`] = n; });
    total.forEach((n, k) => { if (n) hash[`${tag}${first + k}t`] = n; });
  }
  return hash;
}
