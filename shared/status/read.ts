import { readStored } from "../store/documents.ts";
import type { Redis } from "@upstash/redis";
import { z } from "zod";
import { ProbeResult } from "../result.ts";
import { HistoryEntry } from "../store/results.ts";
import { AlertState } from "../alerting/state.ts";
import type { Silence } from "../alerting/silences.ts";
import { parseSilences } from "../fanin/run.ts";
import type { Keys } from "../store/keys.ts";

/** What the status document is built from, as read from the store. */
export interface StatusSnapshot {
  latest: Record<string, ProbeResult | null>;
  /** Newest first, covering at least the timeline's 24 hours where the store holds that much. */
  histories: Record<string, HistoryEntry[]>;
  slos: StoredSlos | null;
  alerts: AlertState | null;
  silences: Silence[];
}

/** A probe as the status document needs it: the registry's fields plus its expected interval. */
export interface ProbeInfo {
  id: string;
  title: string;
  stage: string;
  schedule: string;
  intervalMs: number;
}

const Window = z.object({
  minutes: z.number(), good: z.number(), total: z.number(), errorRatio: z.number().nullable(), burnRate: z.number().nullable(),
});

/** What the fan-in writes to `keys.slos` (shared/slo/evaluate.ts SloStatus), read defensively. */
export const StoredSlos = z.object({
  evaluatedAt: z.string(),
  slos: z.array(z.object({
    id: z.string(), title: z.string(), target: z.number(), periodDays: z.number(),
    source: z.string().nullable(), events: z.number(), period: Window,
    budgetRemaining: z.number().nullable(), budgetRemainingMinutes: z.number().nullable(),
    alerts: z.array(z.object({ severity: z.string(), factor: z.number(), long: Window, short: Window, firing: z.boolean(), guarded: z.boolean() })),
    severity: z.string().nullable(),
  })),
});
export type StoredSlos = z.infer<typeof StoredSlos>;

/** The store keeps at most a day of one-minute runs per probe (shared/store/results.ts). */
const HISTORY_CAP = 1440;

/** History entries needed to cover `windowMs` for a probe running every `intervalMs`, within the store's cap. */
export function historyNeeded(intervalMs: number, windowMs: number): number {
  return Math.min(HISTORY_CAP, Math.ceil(windowMs / Math.max(intervalMs, 1)) + 2);
}

/**
 * Reads everything the status document needs in ONE round trip (one pipeline): MGET of every latest
 * result, one LRANGE per probe history (`historyDepth` entries; none when 0), GET of the SLO statuses
 * and the alert state, HGETALL of the silences. Unreadable entries are dropped, never fatal: a status page must render on a damaged store.
 */
export async function readStatusSnapshot(redis: Redis, keys: Keys, probes: ProbeInfo[], historyDepth: (probe: ProbeInfo) => number): Promise<StatusSnapshot> {
  const depths = probes.map(historyDepth);
  const p = redis.pipeline();
  p.mget(...probes.map((probe) => keys.latest(probe.id)));
  probes.forEach((probe, i) => void (depths[i]! > 0 && p.lrange(keys.history(probe.id), 0, depths[i]! - 1)));
  p.get(keys.slos);
  p.get(keys.alerts);
  p.hgetall(keys.silences);
  const replies = (await p.exec()) as unknown[];
  const [latests, ...rest] = replies;
  const read = rest.splice(0, depths.filter((d) => d > 0).length);
  const histories = depths.map((d) => (d > 0 ? read.shift() : []));
  const [slos, alerts, silences] = rest;
  const latestList = Array.isArray(latests) ? latests : [];
  return {
    latest: Object.fromEntries(probes.map((probe, i) => [probe.id, parseWith(ProbeResult, latestList[i])])),
    histories: Object.fromEntries(probes.map((probe, i) => [probe.id, parseHistory(histories[i])])),
    slos: parseWith(StoredSlos, slos),
    alerts: parseWith(AlertState, alerts),
    silences: parseSilences(silences),
  };
}

function parseHistory(raw: unknown): HistoryEntry[] {
  return (Array.isArray(raw) ? raw : []).flatMap((line) => {
    const entry = parseWith(HistoryEntry, line);
    return entry ? [entry] : [];
  });
}

function parseWith<T>(schema: z.ZodType<T>, raw: unknown): T | null {
  return readStored(schema, raw) ?? null;
}
